"""One finding per function, not per test: what a function's failures have in common.

Per function, the failing tests are explained once: by the catalogued mistake their diagnoses
name, by a property that the failing cases share and the passing ones lack ("fails exactly the
cases where H != W"), or by what they all did (returned a value where a ValueError was due).
Findings are ranked, the one that explains most failures first; a catalogued slug outranks a
bare pattern that explains fewer than twice as many tests. Runs in the grader's process, on the
verdicts and the suite's own case table; it sees no learner value.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable
from typing import Any

import numpy as np

from grader import diagnose, runner, speed, suites
from grader.cases import Case
from grader.models import Diagnosis, Exercise, Finding, FunctionFindings, Performance, Speed, TestResult

PROBES = ("scaled-output", "offset-per-channel", "wrong-at-border", "wrong-in-last-rows",
          "all-zeros", "output-transposed")
_FAILING = ("failed", "error", "timeout")


# --- case properties ------------------------------------------------------------------------


def _pair(value: Any, default: Any = None) -> tuple[Any, Any] | None:
    if value is None:
        value = default
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return tuple(value)
    return None


def properties(slug: str, case: Case) -> dict[str, bool]:
    """The case's properties that a mistake may hinge on, each phrased as a true statement."""
    names = runner._param_names(suites.get(slug), case.function)
    params = {**dict(zip(names, case.args)), **case.kwargs}
    arrays = [a for a in case.args if isinstance(a, np.ndarray)]
    props: dict[str, bool] = {}
    x = params.get("x")
    shape = tuple(params["x_shape"]) if "x_shape" in params else getattr(x, "shape", None)
    if shape is not None and len(shape) == 4:
        props["H != W"] = shape[2] != shape[3]
        props["N == 1"] = shape[0] == 1
        props["C == 1"] = shape[1] == 1
    w = params.get("w")
    if isinstance(w, np.ndarray) and w.ndim == 4:
        props["KH != KW"] = w.shape[2] != w.shape[3]
        props["F == 1"] = w.shape[0] == 1
        props["F != C"] = w.shape[0] != w.shape[1]
    if isinstance(w, np.ndarray):
        props["the kernel is even"] = any(k % 2 == 0 for k in w.shape[2:])
    kernel = _pair(params.get("kernel_size"))
    if kernel is not None:
        props["KH != KW"] = kernel[0] != kernel[1]
    stride = _pair(params.get("stride", None if "kernel_size" in names else 1),
                   params.get("kernel_size"))
    if stride is not None:
        props["stride > 1"] = max(stride) > 1
        props["the stride differs per axis"] = stride[0] != stride[1]
    axes = diagnose._geometry(params, 2)  # per axis, with dilation and 'same' padding resolved
    if axes is not None and min(axes["s"]) > 0:  # a zero stride is a case that must raise
        extents = [d * (k - 1) + 1 for k, d in zip(axes["k"], axes["d"])]  # the windows' spans
        props["windows overlap"] = any(s < e for s, e in zip(axes["s"], extents))
        props["the stride does not divide"] = any(
            (n + p - e) % s != 0 for n, p, e, s in zip(axes["n"], axes["p"], extents, axes["s"]))
    padding = params.get("padding", 0)
    if isinstance(padding, str):
        props[f"padding == '{padding}'"] = True
        props["padding > 0"] = padding == "same"
    elif _pair(padding) is not None:
        props["padding > 0"] = max(_pair(padding)) > 0
    dilation = _pair(params.get("dilation", 1))
    if "dilation" in names and dilation is not None:
        props["dilation > 1"] = max(dilation) > 1
    if "groups" in names:
        props["groups > 1"] = int(params.get("groups", 1)) > 1
    if "b" in names:
        props["b is None"] = params.get("b") is None
    if "count_include_pad" in names:
        props["count_include_pad=False"] = params.get("count_include_pad") is False
    if "mode" in names:
        props[f"mode == '{params.get('mode', 'full')}'"] = True
    a, v = params.get("a"), params.get("v")
    if isinstance(a, np.ndarray) and isinstance(v, np.ndarray):
        props["the kernel is longer than the signal"] = v.size > a.size
        props["the kernel is even"] = v.size % 2 == 0
    dout = params.get("dout")
    if isinstance(dout, np.ndarray):
        props["dout is one-hot"] = np.count_nonzero(dout) == 1
        props["dout == 0"] = not dout.any()
    if isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.size:
        props["values tie"] = bool(np.all(x == np.round(x))) and np.unique(x).size < x.size
        props["inputs are all negative"] = bool(np.all(x < 0))
    if arrays:
        kinds = {a.dtype.name for a in arrays}
        props["float32"] = "float32" in kinds
        props["inputs are integers"] = any(a.dtype.kind in "iu" for a in arrays)
    props["inputs are read-only"] = case.readonly
    props["inputs are Fortran-ordered"] = case.layout == "F"
    props["inputs are non-contiguous"] = case.layout == "strided"
    return props


# Which of several properties that fit the failures equally well to name: the one closest to a
# mechanism first.
_PRIORITY = ("H != W", "KH != KW", "the stride differs per axis", "stride > 1", "windows overlap",
             "the stride does not divide", "dilation > 1", "groups > 1", "padding == 'same'",
             "padding > 0", "the kernel is even", "dout is one-hot", "values tie", "float32", "N == 1")


# --- what each property means when the failures line up with it ------------------------------

# A property that the failing cases share, mapped to the catalogued mistake it betrays, for the
# functions where nothing else explains it.
_SLUG_OF = {"H != W": "hw-swapped", "KH != KW": "hw-swapped"}

# Crashing exactly where groups > 1: a channel slice of the wrong length (interleaved filters
# give wrong values, not a crash).
_CRASH_SLUG_OF = {"groups > 1": "group-channel-slice"}

_HINTS = {
    "H != W": "Check every place where H and W (or their kernel sizes) are unpacked and used.",
    "KH != KW": "Check every place where KH and KW are unpacked and used.",
    "stride > 1": "Check where the stride enters: the window start i*s, the output size, "
                  "and (backward) where each dout entry is scattered back.",
    "padding > 0": "Check the padding: its size on each side, where the original input starts "
                   "inside the padded one, and the crop in the backward pass.",
    "padding == 'same'": "'same' pads d*(K-1) in total: total // 2 before, the rest after.",
    "dilation > 1": "With dilation d the taps are d apart: tap u reads xpad[i*s + u*d], and the "
                    "kernel spans d*(K-1)+1 cells.",
    "groups > 1": "Group g reads input channels [g*C/G, (g+1)*C/G) and filters "
                  "[g*F/G, (g+1)*F/G).",
    "float32": "Keep the input's dtype end to end and accumulate carefully: no int buffers, no "
               "float64 output for float32 input.",
    "N == 1": "Check batch handling: a squeeze, an axis=0 reduction or a broadcast that only "
              "works with more than one sample.",
    "dout is one-hot": "Check where each dout entry's gradient lands: a one-hot dout touches a "
                    "single window.",
    "values tie": "Ties: the first maximum in row-major order takes the whole gradient.",
    "b is None": "b may be None: add the bias only when it is given.",
    "inputs are read-only": "Never write into an argument; inputs may be read-only.",
    "inputs are non-contiguous": "Do not assume contiguous inputs (no .view, no raw strides): "
                             "np.ascontiguousarray first if you need them.",
    "inputs are Fortran-ordered": "Do not assume C order (no raw strides or .view on the input).",
    "the kernel is longer than the signal": "When the kernel is longer than the signal, swap the two as "
                                 "np.convolve does.",
    "the kernel is even": "With an even kernel the two sides of the padding differ by one.",
    "the stride differs per axis": "Use the stride of each axis with its own axis: (sh, sw).",
    "windows overlap": "Where windows overlap (stride < kernel) a cell gets contributions "
                           "from several windows: accumulate with +=.",
    "the stride does not divide": "When the stride does not divide, the last rows/columns of the "
                              "input are never visited: their gradient is exactly 0, and dx "
                              "still has x's shape.",
    "inputs are integers": "Integer inputs give integer outputs, computed exactly.",
    "count_include_pad=False": "Without count_include_pad the divisor is the number of "
                               "in-image cells of each window.",
    "inputs are all negative": "Pad a max pool with -inf, never 0.",
}


def _pattern_id(prop: str) -> str:
    words = prop.lower().replace("!=", "ne").replace("==", "eq").replace(">", "gt") \
        .replace("=", "eq")
    return "fails-when-" + "-".join("".join(c for c in w if c.isalnum()) for w in words.split())


_MIN_WITHOUT = 3  # passing cases that must lack a property before "only where" names it


def _shared_property(slug: str, failing: list[Case], passing: list[Case]) \
        -> tuple[str, bool] | None:
    """The one property true of exactly the failing cases (True), or failing only where it holds
    (False): the most specific such property. None when no property lines up."""
    if not failing or not passing:
        return None
    fails = [properties(slug, c) for c in failing]
    passes = [properties(slug, c) for c in passing]
    names = sorted(set().union(*fails) | set().union(*passes))
    names.sort(key=lambda p: (_PRIORITY.index(p) if p in _PRIORITY else len(_PRIORITY), p))
    exact = [p for p in names if all(f.get(p) for f in fails) and not any(q.get(p) for q in passes)]
    if exact:
        return exact[0], True
    for a, b in itertools.combinations(names, 2):
        if all(f.get(a) and f.get(b) for f in fails) and \
                not any(q.get(a) and q.get(b) for q in passes):
            return f"{a} and {b}", True
    # "Fails only where P" says something only when P splits the suite: most cases with P fail,
    # and enough cases lack it. A property nearly every case has (H != W in most suites) is
    # shared by the failures of any bug, and naming it would point at the wrong line.
    only = [p for p in names if all(f.get(p) for f in fails)
            and sum(bool(q.get(p)) for q in passes) <= len(fails) // 2
            and sum(not q.get(p) for q in passes) >= _MIN_WITHOUT]
    if only:
        return min(only, key=lambda p: sum(bool(q.get(p)) for q in passes)), False
    return None


# --- findings ---------------------------------------------------------------------------------


def _finding(diagnosis: Diagnosis, tests: list[TestResult], kind: str | None = None,
             detail: dict | None = None) -> Finding:
    kind = kind or ("probe" if diagnosis.slug in PROBES else "mistake")
    shown = max((t for t in tests if t.heatmap is not None), key=lambda t: t.max_points,
                default=None)
    return Finding(kind=kind, slug=diagnosis.slug, message=diagnosis.message,
                   hint=diagnosis.hint, tests=tuple(t.id for t in tests),
                   detail=detail or diagnosis.detail, heatmap_test=shown.id if shown else None)


def _shape_findings(tests: list[TestResult]) -> list[Finding]:
    """Wrong sizes no variant explains, grouped by the axis and the slip that gives them."""
    groups: dict[tuple[str, str], list[TestResult]] = {}
    for t in tests:
        if t.status in _FAILING and t.diagnosis is None and t.shape_detail:
            key = (str(t.shape_detail.get("axis")), str(t.shape_detail.get("formula")))
            groups.setdefault(key, []).append(t)
    found = []
    for (axis, formula), group in groups.items():
        first = group[0].shape_detail or {}
        slug = first.get("slug")  # diagnose.shape_detail's catalogued slip, if it found one
        message = (f"{axis} is {first.get('got')} instead of {first.get('want')}"
                   f"{'' if len(group) == 1 else f' (and alike in {len(group) - 1} more cases)'}"
                   f": {formula}.")
        if slug:
            message, hint = diagnose.catalog()[slug]["message"], diagnose.catalog()[slug]["hint"]
        else:
            hint = "out = (n + pad_before + pad_after - d*(K - 1) - 1) // s + 1 per axis; dx " \
                   "has x's shape."
        found.append(Finding(kind="shape", slug=slug, message=message, hint=hint,
                             tests=tuple(t.id for t in group),
                             pattern=None if slug else _pattern_id(f"shape {axis} {formula}"),
                             detail=dict(first)))
    return found


def _rank(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=lambda f: -len(f.tests) * (2 if f.slug else 1)))


def _pattern(slug: str, function: str, tests: list[TestResult], cases: dict[str, Case],
             diagnosed: dict[str, list[TestResult]]) -> Finding | None:
    """What the failing value cases of `function` have in common, against its passing ones."""
    values = [t for t in tests if not cases[t.id].raises]
    failing = [t for t in values if t.status in _FAILING]
    passing = [t for t in values if t.status == "passed"]
    shared = _shared_property(slug, [cases[t.id] for t in failing],
                              [cases[t.id] for t in passing])
    if shared is None:
        return None
    prop, exact = shared
    when = {"when": prop, "exact": exact}
    raised = sum(t.status == "error" for t in failing)
    if len(diagnosed) == 1 and next(iter(diagnosed)) not in PROBES:
        # one catalogued mistake named on some of the failures, the rest crashes or unexplained:
        # the cases' shared property ties them to it (a probe is too weak a clue to spread)
        (group,) = diagnosed.values()
        return _finding(group[0].diagnosis, failing, detail=when)
    named = _SLUG_OF.get(prop) if exact else None
    if named is None and exact and raised == len(failing):
        named = _CRASH_SLUG_OF.get(prop)
    if named and named in diagnose.catalog():
        return _finding(diagnose.named(named), failing, detail=when)
    how = "exactly the cases where" if exact else "only cases where"
    what = "raises" if raised == len(failing) else "fails"
    message = f"{function} {what} {how} {prop} ({len(failing)} of {len(values)} cases)."
    top = max(diagnosed.values(), key=len, default=[])
    if top and len(top) == len(failing):
        return None  # one catalogued mistake already explains every failure
    return Finding(kind="pattern", pattern=_pattern_id(prop), message=message,
                   hint=_HINTS.get(prop, "Compare the failing and passing cases' parameters."),
                   tests=tuple(t.id for t in failing), detail={"when": prop, "exact": exact})


def _patterns(slug: str, function: str, tests: list[TestResult], cases: dict[str, Case],
              diagnosed: dict[str, list[TestResult]]) -> list[Finding]:
    """The pattern of all failures; where none fits them exactly, the crashes' and the wrong
    values' own patterns (two mistakes in one function), each against the passing cases."""
    whole = _pattern(slug, function, tests, cases, diagnosed)
    if whole is not None and (whole.detail or {}).get("exact", True):
        return [whole]
    crashed = {t.id for t in tests if t.status == "error"}
    wrong = {t.id for t in tests if t.status in _FAILING and t.id not in crashed}
    if not crashed or not wrong:
        return [whole] if whole else []
    parts = []
    for mine in (crashed, wrong):
        subset = [t for t in tests if t.status == "passed" or t.id in mine]
        named = {k: [t for t in g if t.id in mine] for k, g in diagnosed.items()}
        part = _pattern(slug, function, subset, cases, {k: g for k, g in named.items() if g})
        if part is not None and (part.detail or {}).get("exact"):
            parts.append(part)
    return parts or ([whole] if whole else [])


def _validation(function: str, tests: list[TestResult], cases: dict[str, Case]) -> Finding | None:
    missed = [t for t in tests if cases[t.id].raises and t.status != "passed" and not t.diagnosis]
    if not missed:
        return None
    return Finding(kind="pattern", pattern="missing-validation",
                   message=f"{function} does not raise {cases[missed[0].id].raises} for invalid "
                           f"arguments in {len(missed)} case(s).",
                   hint="Check the arguments first and raise ValueError with a message naming "
                        "the bad value (see the statement's list of invalid inputs).",
                   tests=tuple(t.id for t in missed))


def _add(found: dict[str, Finding], extra: Finding) -> None:
    """A shape or pattern finding joins the finding of its catalogued slug, if there is one
    (the tests and the details of both), else stands on its own."""
    same = found.get(extra.slug) if extra.slug else None
    if same is None:
        found[extra.key] = extra
        return
    found[extra.slug] = dataclasses.replace(
        same, tests=tuple(dict.fromkeys(same.tests + extra.tests)),
        detail={**(extra.detail or {}), **(same.detail or {})} or None)


def function_findings(slug: str, function: str, tests: list[TestResult]) -> tuple[Finding, ...]:
    """The ranked findings of one function's test results."""
    cases = {c.id: c for c in suites.get(slug).cases}
    tests = [t for t in tests if t.id in cases]
    if any(t.message.startswith("not implemented") or f"{function} is not " in t.message
           for t in tests):
        return ()  # nothing of it ran: the failures say so one by one
    diagnosed: dict[str, list[TestResult]] = {}
    for t in tests:
        if t.status in _FAILING and t.diagnosis:
            diagnosed.setdefault(t.diagnosis.slug, []).append(t)
    found = {key: _finding(group[0].diagnosis, group) for key, group in diagnosed.items()}
    for extra in (*_shape_findings(tests), *_patterns(slug, function, tests, cases, diagnosed)):
        _add(found, extra)
    validation = _validation(function, tests, cases)
    if validation is not None:
        found[validation.key] = validation
    return _rank(found.values())


def _speed(performance: Performance | None) -> Speed | None:
    if performance is None:
        return None
    note = "python-loops" if performance.diagnosis and performance.diagnosis.slug == \
        "python-loops" else "slow" if performance.ratio_to_reference > speed.SLOWER_RATIO else None
    hint = performance.diagnosis.hint if performance.diagnosis else ""
    return Speed(ratio_to_reference=performance.ratio_to_reference,
                 python_lines_per_output=performance.python_lines_per_output,
                 note=note, message=performance.verdict, hint=hint)


def summarize(exercise: Exercise, results: list[TestResult],
              performances: Iterable[Performance] = ()) -> tuple[FunctionFindings, ...]:
    """Per function of the exercise: its points, ranked findings and speed note."""
    speeds = {p.function: p for p in performances}
    summaries = []
    for function in exercise.functions:
        mine = [t for t in results if t.function == function]
        summaries.append(FunctionFindings(
            function=function, points=round(sum(t.points for t in mine), 6),
            max_points=round(sum(t.max_points for t in mine), 6),
            findings=function_findings(exercise.slug, function, mine),
            speed=_speed(speeds.get(function))))
    return tuple(summaries)


def explain_tests(results: list[TestResult], summaries: tuple[FunctionFindings, ...]) \
        -> list[TestResult]:
    """Each undiagnosed failing test gets the best catalogued finding that explains it."""
    best: dict[str, Diagnosis] = {}
    for summary in summaries:
        for f in summary.findings:
            if f.slug is None:
                continue
            for test_id in f.tests:
                best.setdefault(test_id, Diagnosis(f.slug, f.message, f.hint))
    return [dataclasses.replace(t, diagnosis=best[t.id])
            if t.diagnosis is None and t.status in _FAILING and t.id in best else t
            for t in results]
