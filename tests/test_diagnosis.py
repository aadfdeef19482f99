"""Does the grader name the mistake? Learner-style buggy files, variant discrimination, no leaks."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from grader import diagnose, exercises, grade, runner, suites
from grader.boundary import CallOutcome
from grader.compare import TOLERANCE, relative_error
from tests.conftest import ROOT, SLUGS

BUGGY = sorted((ROOT / "tests" / "submissions" / "buggy").glob("*/*.py"))


def _grade(path: Path):
    return grade.grade_file(exercises.resolve(path.parent.name), path)


def _pooled_reference(ref: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """|ref| summed over the leading axes and max-pooled to the heatmap's shape, scaled to 1."""
    grid = np.abs(ref).reshape(-1, *ref.shape[-2:]).sum(axis=0) if ref.ndim >= 2 \
        else np.abs(ref)[None, :]
    bh, bw = -(-grid.shape[0] // shape[0]), -(-grid.shape[1] // shape[1])
    padded = np.zeros((shape[0] * bh, shape[1] * bw))
    padded[:grid.shape[0], :grid.shape[1]] = grid
    pooled = padded.reshape(shape[0], bh, shape[1], bw).max(axis=(1, 3))
    return pooled / max(pooled.max(), 1e-300)


@pytest.mark.parametrize("path", BUGGY, ids=[f"{p.parent.name}/{p.stem}" for p in BUGGY])
def test_buggy_submission_is_diagnosed_with_its_slug(path):
    """Is a learner's classic mistake named by its catalog slug, more often than any other, and
    first among its function's findings? (`slug--how.py` is one more way to make it.) And does
    no heatmap draw the expected answer (|ref| / max|ref|)?"""
    result = _grade(path)
    slug = path.stem.split("--")[0]
    slugs = Counter(t.diagnosis.slug for t in result.tests if t.diagnosis)
    assert result.score < 100
    assert slugs, "no failing case was diagnosed"
    assert slugs[slug] == max(slugs.values()), dict(slugs)
    tops = [f.findings[0].key for f in result.functions if f.findings]
    assert slug in tops, tops
    case_ids = {c.id for c in suites.get(path.parent.name).cases}
    for test in result.tests:
        if not test.heatmap or test.id not in case_ids:  # an extra test's map is its own affair
            continue
        ref = runner.expected(path.parent.name, test.id).value
        if isinstance(ref, tuple):
            names = suites.get(path.parent.name).output_names(test.function)
            ref = ref[names.index(test.heatmap_output)]
        grid = np.array(test.heatmap)
        assert not np.allclose(grid, _pooled_reference(ref, grid.shape), atol=0.05), test.id


@pytest.mark.parametrize("slug", SLUGS)
def test_every_variant_slug_is_catalogued(slug):
    for variant in suites.get(slug).variants:
        assert variant.slug in diagnose.catalog(), variant.slug
        assert variant.function in exercises.resolve(slug).functions


def _distance(a, b) -> float:
    """How far two outputs are apart: inf for different structure or shape."""
    if isinstance(a, tuple) != isinstance(b, tuple):
        return np.inf
    if isinstance(a, tuple):
        return max((_distance(x, y) for x, y in zip(a, b)), default=0.0)
    if a.shape != b.shape:
        return np.inf
    return relative_error(a, b)


@pytest.mark.parametrize("slug", SLUGS)
def test_suite_separates_every_pair_of_variants(slug):
    """For each pair of mistakes of a function, does some case tell them apart by far more than
    the tolerance (1e3 x)? Otherwise the diagnosis could not know which one the learner made."""
    cases = suites.get(slug).cases
    by_function: dict[str, list] = {}
    for variant in suites.get(slug).variants:
        by_function.setdefault(variant.function, []).append(variant)
    for function, variants in by_function.items():
        outputs = {v: [dict(runner.variant_outputs(slug, c.id)).get(v) for c in cases
                       if c.function == function] for v in variants}
        for a, b in itertools.combinations(variants, 2):
            if a.slug == b.slug:
                continue
            # one raising where the other returns tells them apart too (a learner's call did one)
            gaps = [np.inf if (x is None) != (y is None) else _distance(x, y)
                    for x, y in zip(outputs[a], outputs[b]) if x is not None or y is not None]
            assert max(gaps, default=0.0) > 1e3 * TOLERANCE[np.dtype("float64")], (a.slug, b.slug)


def _numbers(value) -> set[str]:
    """Printed forms of the interesting numbers of an array: what a leak would contain."""
    flat = np.concatenate([np.ravel(v) for v in value]) if isinstance(value, tuple) else np.ravel(value)
    picked = [float(x) for x in flat if abs(x) > 1e-3][:40]
    return {f"{x:.4f}"[:7] for x in picked}


@pytest.mark.parametrize("path", BUGGY[:: max(1, len(BUGGY) // 12)],
                         ids=[p.stem for p in BUGGY[:: max(1, len(BUGGY) // 12)]])
def test_reports_never_contain_expected_values_or_inputs(path):
    """Do JSON results of failing runs stay free of expected arrays and hidden input values?"""
    result = _grade(path)
    text = json.dumps(result.to_json())
    slug = path.parent.name
    # the scored cases and the timed ones, whose answers are judged too
    cases = {c.id: c for c in (*suites.get(slug).cases, *suites.get(slug).performance)}
    for test in result.tests:
        if test.status == "passed" or test.id not in cases:  # extra tests hold no hidden case
            continue
        case = cases[test.id]
        secret = set()
        if not case.raises:
            secret |= _numbers(runner.expected(slug, case.id).value)
        for arg in case.args:
            if isinstance(arg, np.ndarray) and arg.dtype.kind == "f":
                secret |= _numbers(arg)
        leaked = [s for s in secret if s in text]
        assert not leaked, (test.id, leaked[:5])


@pytest.mark.slow
@pytest.mark.parametrize("slug", SLUGS)
def test_naive_loops_get_full_marks_and_the_python_loops_note(slug):
    """Is a correct but loop-heavy solution told it is slow, without losing points, while the
    vectorized reference gets neither a note nor a diagnosis?"""
    if not suites.get(slug).performance:
        pytest.skip(f"{slug} has no medium case for speed feedback")
    exercise = exercises.resolve(slug)
    naive = grade.grade_file(exercise, ROOT / "tests" / "submissions" / "naive" / f"{slug}.py")
    assert naive.score == 100
    assert naive.performance is not None
    assert naive.performance.diagnosis and naive.performance.diagnosis.slug == "python-loops"
    reference = grade.grade_file(exercise, ROOT / "solutions" / f"{slug}.py")
    assert reference.score == 100 and not any(t.diagnosis for t in reference.tests)
    assert reference.performances and not any(p.diagnosis for p in reference.performances)


def test_a_value_where_an_error_was_due_is_never_put_down_to_a_shape():
    """On a case that must raise there is no reference answer, so every answer's shape is
    "wrong": a mistake whose output merely has the learner's shape explains nothing there (a
    (1,) bias broadcast without complaint was once called bias-wrong-axis)."""
    suite = suites.get("conv1d")
    case = suite.case("conv1d-bias-shape1-raises")
    variants = list(runner.variants_on(suite, case.function, case.args, case.kwargs))
    x, w, b = case.args
    answer = np.ones((x.shape[0], w.shape[0], x.shape[2] - w.shape[2] + 1)) * 7.0
    assert any(getattr(out, "shape", None) == answer.shape for _, out in variants)
    assert diagnose.by_variants(variants, answer, None, None) is None


def test_the_variants_run_only_for_a_wrong_answer(monkeypatch):
    """Each variant is a full computation: a right answer (every timed call of the speed check
    is judged) must not pay for them, a wrong one still gets its diagnosis from them."""
    exercise, suite = exercises.resolve("conv_forward"), suites.get("conv_forward")
    case = next(c for c in suite.cases if not c.raises)
    ref = runner.reference_answer(suite, case.function, case.args, case.kwargs)
    runs = []
    real = runner.variants_on
    monkeypatch.setattr(runner, "variants_on", lambda *a: runs.append(a) or real(*a))
    right = runner.judge(exercise, case, CallOutcome("value", ref.value), ref)
    assert right.status == "passed" and runs == []
    wrong = runner.judge(exercise, case, CallOutcome("value", ref.value + 1.0), ref)
    assert wrong.status == "failed" and len(runs) == 1


# (x shape, w shape, stride, padding, dilation, learner's output H and W, the slip's slug)
SIZE_SLIPS = [
    ((2, 3, 9, 7), (4, 3, 3, 3), 1, 0, 1, (7, 5), None),  # right: no detail
    ((2, 3, 9, 7), (4, 3, 3, 3), 1, 0, 1, (5, 7), "hw-swapped"),
    ((2, 3, 9, 7), (4, 3, 3, 3), 1, 0, 1, (6, 5), "output-size-off-by-one"),
    ((2, 3, 9, 9), (4, 3, 3, 3), 1, 1, 1, (7, 9), "padding-ignored"),
    ((2, 3, 11, 11), (4, 3, 3, 3), 1, 0, 2, (9, 7), "dilation-size-ignored"),
    ((2, 3, 12, 12), (4, 3, 3, 3), 1, 0, 4, (1, 4), "dilation-extent-d-times-k"),
    ((2, 3, 11, 11), (4, 3, 3, 3), 1, 0, 2, (5, 7), "dilation-off-by-one"),
    ((2, 3, 9, 9), (4, 3, 3, 3), 1, 0, 1, (9, 7), None),  # the stride is 1: no slip gives 9
]


@pytest.mark.parametrize("x_shape, w_shape, s, p, d, got, slug", SIZE_SLIPS)
def test_a_wrong_size_names_the_catalogued_slip_that_gives_it(x_shape, w_shape, s, p, d, got,
                                                              slug):
    """shape_detail names the slip in words and, where the catalogue has it, by slug; findings
    take the slug from there (no matching of the words), and every such slug is catalogued."""
    params = {"x": np.zeros(x_shape), "w": np.zeros(w_shape), "stride": s, "padding": p,
              "dilation": d}
    want = (x_shape[0], w_shape[0], *(
        (n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k in zip(x_shape[2:], w_shape[2:])))
    got_shape = (*want[:2], *got)
    detail = diagnose.shape_detail(params, got_shape, want, diagnose.axis_names(want, params))
    if got_shape == want:
        assert detail is None
        return
    assert detail["formula"] and detail.get("slug") == slug
    assert slug is None or slug in diagnose.catalog()
