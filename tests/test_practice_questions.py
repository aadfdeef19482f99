"""Concept questions: every numeric answer against the reference solutions run on arrays of the
drawn shapes, the seed texts' mistaken claims as explained wrong options, and answer reading."""

from __future__ import annotations

import ast
import importlib

import numpy as np
import pytest

from grader import exercises
from grader.models import QuizScore
from grader.practice import questions
from tests.conftest import SLUGS

SEEDS = range(12)
# The mistaken claims of the seed texts (shared/reference/seeds/README.md) and of common notes.
SEED_CLAIMS = {"addition-nonlinear", "dilation-increases-resolution", "dilation-output-5x5",
               "stride-counted-twice", "stride2-pad1-keeps-size", "linearity-formula-garbled",
               "seed-dw-db-shapes", "output-depth-is-input-depth"}


def ref(slug: str):
    return importlib.import_module(f"solutions.{slug}")


def z(*shape: int, dtype: str = "float64") -> np.ndarray:
    return np.zeros(shape, dtype)


def conv_height(slug: str, H: int, K: int, P: int = 0, S: int = 1, D: int = 1) -> int:
    """The output height the exercise's own reference produces for a one-channel input."""
    if slug == "conv1d":
        return ref(slug).conv1d(z(1, 1, H), z(1, 1, K), stride=S, padding=P, dilation=D).shape[-1]
    if slug == "conv_forward":
        assert D == 1
        return ref(slug).conv_forward(z(1, 1, H, 1), z(1, 1, K, 1), z(1), stride=(S, 1),
                                      padding=(P, 0)).shape[2]
    return ref("conv_strided_dilated").conv2d(z(1, 1, H, 1), z(1, 1, K, 1), stride=(S, 1),
                                              padding=(P, 0), dilation=(D, 1)).shape[2]


def fires(layers, length: int = 200) -> int:
    """How many input positions reach output 0 through `layers` [(K, S, D)] with positive weights:
    a batch of impulses, one per position, through the reference conv2d along H."""
    conv2d = ref("conv_strided_dilated").conv2d
    x = np.eye(length).reshape(length, 1, length, 1)
    for K, S, D in layers:
        x = conv2d(x, np.ones((1, 1, K, 1)), stride=(S, 1), dilation=(D, 1))
    return int((x[:, 0, 0, 0] > 0).sum())


def witness(slug: str, formula: str, v: dict):
    """The drawn question's answer, measured on the reference solutions."""
    if formula == "conv_out":
        return conv_height(slug, v["H"], v["K"], v.get("P", 0), v.get("S", 1), v.get("D", 1))
    if formula == "pool_out":
        return ref("pooling").max_pool_forward(z(1, 1, v["H"], v["H"]), v["K"], v.get("S"),
                                               v.get("P", 0)).shape[2]
    if formula == "effective_kernel":  # the smallest input the dilated kernel fits in
        for H in range(1, 100):
            try:
                return H if conv_height(slug, H, v["K"], D=v["D"]) == 1 else None
            except ValueError:
                continue
    if formula == "convolve_len":
        return ref("conv1d").convolve1d(np.ones(v["N"]), np.ones(v["M"]), v["mode"]).size
    if formula == "conv_params":
        C, F, K, G = v["C"], v["F"], v["K"], v.get("G", 1)
        if v.get("dims", 2) == 1:
            w, b = z(F, C, K), z(F)
            ref("conv1d").conv1d(z(1, C, K), w, b)
        else:
            w, b = z(F, C // G, K, K), z(F)
            ref("conv_strided_dilated").conv2d(z(1, C, K, K), w, b, groups=G)
        return w.size + b.size
    if formula == "separable_params":
        C, F, K = v["C"], v["F"], v["K"]
        conv2d = ref("conv_strided_dilated").conv2d
        depthwise, pointwise = z(C, 1, K, K), z(F, C, 1, 1)
        assert conv2d(conv2d(z(1, C, K, K), depthwise, groups=C), pointwise).shape == (1, F, 1, 1)
        return depthwise.size + pointwise.size
    if formula == "conv_macs":  # all ones, padding made explicit: each output sums its C*K*K products
        C, F, K, H, P = v["C"], v["F"], v["K"], v["H"], v["P"]
        out = ref("conv_forward").conv_forward(np.ones((1, C, H + 2 * P, H + 2 * P)),
                                               np.ones((F, C, K, K)), z(F), stride=v["S"])
        return int(out.sum())
    if formula == "im2col_bytes":
        dtype = v["dtype"]
        w = z(1, v["C"], v["K"], v["K"], dtype=dtype)
        out = ref("conv_forward").conv_forward(z(v["N"], v["C"], v["H"], v["H"], dtype=dtype), w,
                                               z(1, dtype=dtype), stride=v["S"], padding=v["P"])
        return int(np.prod(w.shape[1:])) * out.shape[0] * out.shape[2] * out.shape[3] * out.itemsize
    if formula in ("out_shape", "dx_shape"):
        x = z(v["N"], v["C"], v["H"], v["W"])
        w = z(v["F"], v["C"], v["KH"], v["KW"])
        out = ref("conv_forward").conv_forward(x, w, z(v["F"]), stride=v["S"], padding=v["P"])
        if formula == "out_shape":
            return out.shape
        dx, _, _ = ref("conv_backward").conv_backward(out, x, w, stride=v["S"], padding=v["P"])
        return dx.shape
    if formula in ("reads_of", "unread_rows"):  # dx with dout and w all ones counts the readers
        H, K, S, P = v["H"], v["K"], v["S"], v.get("P", 0)
        x, w = z(1, 1, H, 1), np.ones((1, 1, K, 1))
        out = ref("conv_forward").conv_forward(x, w, z(1), stride=(S, 1), padding=(P, 0))
        dx = ref("conv_backward").conv_backward(np.ones_like(out), x, w, stride=(S, 1),
                                                padding=(P, 0))[0][0, 0, :, 0]
        if formula == "reads_of":
            return int(dx[v["i"]])
        read = np.flatnonzero(dx)
        return H - 1 - int(read[-1])
    if formula == "receptive_field":
        doubling = v.get("dilations") == "doubling"
        layers = [(v["K"], v.get("S", 1) if i == 0 else 1, 2 ** i if doubling else 1)
                  for i in range(v["L"])]
        return fires(layers)
    if formula == "same_pad_after":  # which split of the total makes 'same' equal explicit pads
        conv2d = ref("conv_strided_dilated").conv2d
        rng = np.random.default_rng(0)
        x, w = rng.standard_normal((1, 1, 9, 1)), rng.standard_normal((1, 1, v["K"], 1))
        same = conv2d(x, w, padding="same", dilation=(v["D"], 1))
        total = v["D"] * (v["K"] - 1)
        fits = [after for after in range(total + 1)
                if np.allclose(same, conv2d(np.pad(x, ((0, 0), (0, 0), (total - after, after), (0, 0))),
                                            w, dilation=(v["D"], 1)))]
        assert len(fits) == 1
        return fits[0]
    if formula == "transposed_out":  # the sizes a conv maps to H; output_padding picks among them
        sizes = [n for n in range(1, 120)
                 if _height_or_none(n, v["K"], v["P"], v["S"]) == v["H"]]
        assert v["OP"] < len(sizes)
        return sizes[0] + v["OP"]
    if formula == "max_grad_count":
        H, K, S, i = v["H"], v["K"], v["S"], v["i"]
        x = z(1, 1, H, H)
        x[0, 0, i, i] = 1.0
        out = ref("pooling").max_pool_forward(x, K, S)
        return int(ref("pooling").max_pool_backward(np.ones_like(out), x, K, S)[0, 0, i, i])
    raise AssertionError(f"no witness for formula {formula}")


def _height_or_none(H: int, K: int, P: int, S: int) -> int | None:
    try:
        return conv_height("conv_strided_dilated", H, K, P, S)
    except ValueError:
        return None


def numeric_cases():
    for slug in SLUGS:
        for q in questions.load(exercises.resolve(slug)):
            if q.kind in ("number", "shape"):
                yield pytest.param(slug, q, id=f"{slug}::{q.id}")


@pytest.mark.parametrize(("slug", "question"), list(numeric_cases()))
def test_numeric_answer_matches_the_reference(slug, question):
    """Is every drawn answer what the reference solutions measure on arrays of those shapes?"""
    draws = set()
    for seed in SEEDS:
        drawn = questions.draw_one(slug, question, seed)
        assert drawn.answer == witness(slug, str(question.answer), drawn.values), (seed, drawn.values)
        draws.add(drawn.prompt)
    assert len(draws) > 1 or not question.draw or all(not isinstance(s, dict)
                                                      for s in question.draw.values())


@pytest.mark.parametrize("slug", SLUGS)
def test_each_exercise_has_eight_valid_questions(slug):
    qs = questions.load(exercises.resolve(slug))
    assert len(qs) >= 8
    assert {"number", "choice", "line"} <= {q.kind for q in qs}
    for q in qs:
        for option in q.options:
            assert option.correct or len(option.why) > 20, (q.id, option.text)


def test_every_seed_claim_is_a_wrong_option_with_its_correction():
    found = {}
    for slug in SLUGS:
        for q in questions.load(exercises.resolve(slug)):
            for option in q.options:
                if option.claim:
                    assert not option.correct and option.why, (q.id, option.claim)
                    found[option.claim] = q
    assert SEED_CLAIMS <= set(found), SEED_CLAIMS - set(found)
    assert "non-linear" in next(o.text for o in found["addition-nonlinear"].options
                                if o.claim == "addition-nonlinear")


def test_seed_snippets_are_the_wrong_lines():
    """The 'which line' questions built from the seed's code point at the seed's broken lines."""
    q = {q.id: q for q in questions.load(exercises.resolve("conv_backward"))}["seed-backward-line"]
    assert q.snippet.splitlines()[q.answer - 1].strip() == "C, H, W = x.shape"
    with pytest.raises(ValueError, match="too many values to unpack") as failed:
        snippet(q, fixed=False)["conv_backward"](z(1, 4, 5, 5), z(1, 3, 7, 7), z(4, 3, 3, 3), z(4))
    assert failed.traceback[-1].lineno + 1 == q.answer  # the first line that fails is the answer
    q = {q.id: q for q in questions.load(exercises.resolve("conv_forward"))}["shadowed-weights-line"]
    with pytest.raises(AttributeError, match="'int' object has no attribute 'shape'") as failed:
        snippet(q, fixed=False)["conv_forward"](z(1, 3, 7, 7), z(4, 3, 3, 3), z(4))
    assert failed.traceback[-1].lineno + 1 == q.answer + 1  # fails on the line after the rebinding
    q = {q.id: q for q in questions.load(exercises.resolve("conv_strided_dilated"))}["seed-stride-line"]
    assert "(stride - 1) * (FH - 1)" in q.snippet.splitlines()[q.answer - 1]


def test_answers_are_read_in_every_usual_spelling():
    exercise = exercises.resolve("conv_forward")
    drawn = {d.question.id: d for d in questions.draw(exercise, 5)}
    shape = drawn["output-shape"]
    n = drawn["parameters"].answer
    spelled = "x".join(str(s) for s in shape.answer)
    assert questions.judge(shape, spelled).correct
    assert questions.judge(shape, str(shape.answer)).correct
    assert questions.judge(shape, list(shape.answer)).correct
    assert questions.judge(drawn["parameters"], f"{n:,}").correct
    assert not questions.judge(drawn["parameters"], n + 1).correct
    assert questions.judge(drawn["stride2-padding1"], False).correct
    assert questions.judge(drawn["stride2-padding1"], "f").correct
    wrong = questions.judge(drawn["size-formula"], "B")
    assert not wrong.correct and "counts the stride twice" in wrong.feedback
    assert "(a)" not in wrong.nudge  # the notebook's nudge does not give the right option away
    unreadable = questions.judge(drawn["parameters"], "lots")
    assert not unreadable.correct and "integer" in unreadable.feedback


def test_same_seed_same_numbers_other_seed_other_numbers():
    exercise = exercises.resolve("conv_strided_dilated")
    first = [d.prompt for d in questions.draw(exercise, 7)]
    assert first == [d.prompt for d in questions.draw(exercise, 7)]
    assert first != [d.prompt for d in questions.draw(exercise, 8)]


def test_answers_cell_is_read_without_running_it():
    exercise = exercises.resolve("pooling")
    drawn = {d.question.id: d for d in questions.draw(exercise, 3)}
    source = (f'answers = {{"seed": 3, "pool-output": {drawn["pool-output"].answer},\n'
              f'           "tie-gradient": "a", "max-pool-padding": True}}')
    answers = questions.answers_in(["answers = {'seed': 1}", source, "x = 1"])
    result = questions.score(exercise, answers)
    assert isinstance(result, QuizScore)
    assert result.correct == ("pool-output", "tie-gradient") and result.wrong == ("max-pool-padding",)
    assert result.score == 2 and result.max_score == len(drawn)
    code = questions.answers_in(["import os\nanswers = {'seed': os.getpid()}"])
    assert isinstance(code, str) and "plain values" in code
    assert questions.score(exercise, code).score == 0
    assert questions.answers_in(["def f(:", "y = 2"]) is None


def test_answers_template_names_every_question():
    exercise = exercises.resolve("conv1d")
    template = questions.answers_template(exercise)
    answers = questions.answers_in([template])
    assert set(answers) == {"seed"} | {q.id for q in questions.load(exercise)}
    assert questions.score(exercise, answers).score == 0


def snippet(q: questions.Question, fixed: bool) -> dict:
    """The question's snippet run as code, as printed or with its wrong line corrected."""
    lines = q.snippet.splitlines()
    if fixed:
        lines[q.answer - 1] = q.fix
    namespace = {"np": np}
    exec("\n".join(lines), namespace)  # noqa: S102 - the project's own question data
    return namespace


def _agrees(probe, namespace) -> bool:
    try:
        return bool(probe(namespace))
    except (ValueError, IndexError, TypeError):
        return False


RNG = np.random.default_rng(17)


def _probe_flip(ns):
    a, v = RNG.standard_normal(7), RNG.standard_normal(4)
    return np.allclose(ns["convolve_full"](a, v), ref("conv1d").convolve1d(a, v))


def _probe_same(ns):
    x, w = RNG.standard_normal((1, 1, 9)), RNG.standard_normal((1, 1, 4))
    before, after = ns["same_pads"](4, 1)
    same = ref("conv1d").conv1d(x, w, padding="same")
    return np.allclose(same, ref("conv1d").conv1d(np.pad(x, ((0, 0), (0, 0), (before, after))), w))


def _probe_bias(ns):
    x, w, b = RNG.standard_normal((2, 3, 6, 7)), RNG.standard_normal((4, 3, 3, 2)), RNG.standard_normal(4)
    out = ref("conv_forward").conv_forward(x, w, b, stride=2)
    return np.isclose(ns["conv_at"](x, w, b, 1, 2, 1, 2, 2), out[1, 2, 1, 2])


def _probe_scatter(ns):
    x, w = RNG.standard_normal((2, 3, 7, 6)), RNG.standard_normal((4, 3, 3, 2))
    out = ref("conv_forward").conv_forward(x, w, np.zeros(4), stride=2, padding=1)
    dout = RNG.standard_normal(out.shape)
    dx = ref("conv_backward").conv_backward(dout, x, w, stride=2, padding=1)[0]
    return np.allclose(ns["conv_dx"](dout, x, w, 2, 1), dx)


def _probe_crop(ns):
    dxp = RNG.standard_normal((1, 2, 5, 6))
    return all(np.array_equal(ns["crop"](dxp, p), dxp[:, :, p:5 - p, p:6 - p]) for p in (0, 1))


def _probe_tap(ns):
    x = RNG.standard_normal((1, 1, 11, 12))
    u, v, s, d = 1, 2, 2, 3
    w = np.zeros((1, 1, 2, 3))
    w[0, 0, u, v] = 1.0
    out = ref("conv_strided_dilated").conv2d(x, w, stride=s, dilation=d)
    return np.isclose(ns["tap"](x, 1, 0, u, v, s, d), out[0, 0, 1, 0])


def _probe_pool(ns):
    x = RNG.permutation(2 * 3 * 7 * 7).reshape(2, 3, 7, 7).astype(float)  # no ties
    out = ref("pooling").max_pool_forward(x, 3, 2)
    dout = RNG.standard_normal(out.shape)
    return np.allclose(ns["max_pool_dx"](dout, x, 3, 2), ref("pooling").max_pool_backward(dout, x, 3, 2))


PROBES = {"flip-line": _probe_flip, "same-even-kernel-line": _probe_same, "bias-line": _probe_bias,
          "scatter-line": _probe_scatter, "crop-line": _probe_crop, "tap-index-line": _probe_tap,
          "accumulate-line": _probe_pool}


def line_questions():
    for slug in SLUGS:
        for q in questions.load(exercises.resolve(slug)):
            if q.kind == "line" and q.fix:
                yield pytest.param(q, id=f"{slug}::{q.id}")


@pytest.mark.parametrize("question", list(line_questions()))
def test_wrong_line_is_the_only_thing_wrong(question):
    """Run as printed, the snippet disagrees with the reference; with only its answer line
    corrected, it agrees: the answer is the wrong line, and the only one."""
    probe = PROBES[question.id]
    assert not _agrees(probe, snippet(question, fixed=False))
    assert _agrees(probe, snippet(question, fixed=True))


def test_every_corrected_snippet_is_probed():
    assert {q.values[0].id for q in line_questions()} == set(PROBES)


def _options(slug: str, qid: str) -> tuple[list, int]:
    """A choice question's options read as arrays, and the index of the correct one."""
    q = {q.id: q for q in questions.load(exercises.resolve(slug))}[qid]
    return [np.array(ast.literal_eval(o.text)) for o in q.options], [o.correct for o in q.options].index(True)


def test_array_options_are_what_the_reference_computes():
    """Where the options are arrays, the correct one is the reference's result and the wrong ones
    are what the named mistakes compute."""
    options, right = _options("conv1d", "convolve-example")
    a, v = np.array([1.0, 2, 3]), np.array([0, 1, 0.5])
    assert np.array_equal(options[right], ref("conv1d").convolve1d(a, v))
    assert np.array_equal(options[1], np.correlate(a, v, "full"))
    assert np.array_equal(options[2], ref("conv1d").convolve1d(a, v, "same"))
    options, right = _options("pooling", "tie-gradient")
    x = np.array([[[[1.0, 3], [3, 0]]]])
    dx = ref("pooling").max_pool_backward(np.ones((1, 1, 1, 1)), x, 2)
    assert np.array_equal(options[right], dx[0, 0])
    assert all(not np.array_equal(o, dx[0, 0]) for i, o in enumerate(options) if i != right)
