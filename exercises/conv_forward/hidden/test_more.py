"""Hidden tests for conv_forward written by the instructor as plain pytest tests.

`learner` calls the learner's code in its sandboxed worker (only data crosses back), `reference`
is the model answer, `assert_close` applies the grader's tolerance, shape and dtype checks.
"""

import numpy as np
import pytest

X = np.random.default_rng(3301).standard_normal((3, 2, 6, 7))
W = np.random.default_rng(3302).standard_normal((4, 2, 3, 2))
B = np.random.default_rng(3303).standard_normal(4)


@pytest.mark.points(1)
@pytest.mark.tier("edge")
def test_batch_images_are_independent(learner, reference, assert_close):
    """A batch of three gives what three batches of one give."""
    whole = learner.conv_forward(X, W, B, stride=2, padding=1)
    assert_close(whole, reference.conv_forward(X, W, B, stride=2, padding=1))
    for n in range(len(X)):
        one = learner.conv_forward(X[n:n + 1], W, B, stride=2, padding=1)
        assert_close(one, reference.conv_forward(X[n:n + 1], W, B, stride=2, padding=1))


@pytest.mark.points(1)
@pytest.mark.tier("edge")
def test_bias_shifts_only_its_filter(learner, reference, assert_close):
    """Adding 1 to filter 0's bias adds 1 to that filter's outputs and changes nothing else.
    Both outputs are checked first: a difference alone is right for any output that ignores
    the weights, and two outputs of the wrong shapes could broadcast into a huge one."""
    shift = np.zeros_like(B)
    shift[0] = 1.0
    base = learner.conv_forward(X, W, B, padding=1)
    assert_close(base, reference.conv_forward(X, W, B, padding=1))
    moved = learner.conv_forward(X, W, B + shift, padding=1)
    assert_close(moved, reference.conv_forward(X, W, B + shift, padding=1))
    want = np.zeros_like(base)
    want[:, 0] = 1.0
    assert_close(moved - base, want)
