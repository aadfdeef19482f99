# Worked examples from the conv_forward statement (README.md), small enough to check by hand.
#
# In the notebook this cell runs after your solution cell, which defines `conv_forward`. As a script,
# `python exercises/conv_forward/example.py` imports it from the file `conv_forward.py` next to it.

import numpy as np
from conv_forward import conv_forward


def show_example(label, compute, expected):
    """Print your result next to the value the README states, and whether they agree."""
    try:
        got = compute()
    except NotImplementedError as exc:
        print(f"{label}: not implemented yet ({exc})")
        return
    agree = np.shape(got) == np.shape(expected) and bool(np.allclose(got, expected))
    print(f"{label}: {'agrees with the README' if agree else 'DOES NOT AGREE with the README'}")
    print(f"    yours:  {np.asarray(got).tolist()}")
    print(f"    README: {expected}")


# One channel: a 3x3 input X and a 2x2 kernel K, as NCHW arrays of shape (1, 1, 3, 3) and (1, 1, 2, 2).
X = np.arange(9.0).reshape(1, 1, 3, 3)
K = np.array([[0.0, 1.0], [2.0, 3.0]]).reshape(1, 1, 2, 2)
show_example("one channel", lambda: conv_forward(X, K, np.zeros(1))[0, 0], [[19, 25], [37, 43]])

# Two input channels, X and X + 1, with the kernel slices K and K + 1: the channels are summed.
X2 = np.concatenate([X, X + 1], axis=1)
K2 = np.concatenate([K, K + 1], axis=1)
show_example("two channels", lambda: conv_forward(X2, K2, np.zeros(1))[0, 0], [[56, 72], [104, 120]])

# padding=1, stride=2 and bias b = [10].
show_example("padding=1, stride=2, b=[10]",
             lambda: conv_forward(X, K, np.array([10.0]), stride=2, padding=1)[0, 0], [[10, 18], [31, 53]])
