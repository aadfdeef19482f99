"""The hidden suites as pytest suites (`grader test`, `grader.pytest_plugin`) and the instructor's
extra tests: the same verdicts and points whichever command runs them, through the same worker."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest

from grader import batch, exercises, extras, grade, suites
from grader.boundary import WorkerSession
from tests.conftest import ROOT

BUGGY = ROOT / "tests" / "submissions" / "buggy"
SUMMARY = re.compile(r"^(\d+ failed)?(, )?(\d+ passed)?(, )?(\d+ deselected)? in [\d.]+s", re.M)


def grader_test(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """`grader test ...` as a learner runs it, from a folder of their own, this checkout's grader."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "grader", "test", *args], capture_output=True,
                          text=True, cwd=tmp_path, env=env, timeout=600)


def junit(path: Path) -> dict[str, dict]:
    """`{case id: {"failed": bool, "points": float, "max_points": float}}` from a JUnit XML file."""
    cases = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        # classname "conv_forward.test_more" and name "test_x" for conv_forward::test_more::test_x
        within = case.get("classname").split(".", 1)[1:]
        cases["::".join([*within, case.get("name")])] = {"failed": case.find("failure") is not None,
                       "points": float(props["points"]), "max_points": float(props["max_points"])}
    return cases


def test_buggy_file_fails_with_pytest_summary_then_last_failed_reruns_only_those(tmp_path):
    buggy = BUGGY / "conv_backward" / "dx-not-cropped.py"
    proc = grader_test(tmp_path, "conv_backward", "--file", str(buggy), "-q")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    summary = SUMMARY.search(proc.stdout)
    assert summary and summary[1] and summary[3], proc.stdout[-500:]
    assert "_ conv_backward::pad1-distinct-dims _" in proc.stdout
    assert "diagnosis: dx-not-cropped" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr and "array(" not in proc.stdout
    assert not (tmp_path / ".pytest_cache").exists(), "the cache belongs in the user's cache folder"

    again = grader_test(tmp_path, "conv_backward", "--file", str(buggy), "-q", "--lf")
    assert again.returncode == 1
    rerun = SUMMARY.search(again.stdout)
    assert rerun and rerun[1] == summary[1] and not rerun[3] and rerun[5], again.stdout[-500:]


def test_k_selects_cases_by_id_and_junitxml_is_a_valid_report(tmp_path):
    buggy = BUGGY / "conv_backward" / "dx-not-cropped.py"
    report = tmp_path / "report.xml"
    proc = grader_test(tmp_path, "conv_backward", "--file", str(buggy), "-k",
                       "distinct-dims or pad1-overlap", f"--junitxml={report}")
    assert proc.returncode == 1
    cases = junit(report)
    assert set(cases) == {"distinct-dims", "pad1-distinct-dims", "stride2-distinct-dims",
                          "stride2-pad1-overlap", "kernel4x3-pad1-overlap"}
    assert cases["pad1-distinct-dims"] == {"failed": True, "points": 0.0, "max_points": 10.0}
    assert cases["distinct-dims"] == {"failed": False, "points": 10.0, "max_points": 10.0}


def test_a_file_that_cannot_be_imported_fails_once_with_the_reason(tmp_path):
    (tmp_path / "mine.py").write_text("def conv_forward(:\n")
    proc = grader_test(tmp_path, "conv_forward", "--file", "mine.py", "-q")
    assert proc.returncode == 1
    assert "your file could not be imported: SyntaxError" in proc.stdout
    assert SUMMARY.search(proc.stdout)[0].startswith("1 failed in")


def test_plugin_is_inert_unless_asked_for(tmp_path):
    """Not an entry point; loaded by hand without --submission, it collects nothing."""
    assert not [e for e in entry_points(group="pytest11") if e.value.startswith("grader")]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "grader.pytest_plugin", "--collect-only", "-q",
         "-p", "no:cacheprovider", str(ROOT / "grader" / "suites" / "conv_backward.py")],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 5 and "no tests collected" in proc.stdout, proc.stdout


def test_plain_pytest_with_the_plugin_is_the_same_run(tmp_path):
    """The spelling the README documents for plain pytest: -p, --pyargs, --submission."""
    naive = ROOT / "tests" / "submissions" / "naive" / "conv1d.py"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "grader.pytest_plugin", "--pyargs",
         "grader.suites.conv1d", "--submission", str(naive), "-q", "-p", "no:cacheprovider",
         "-k", "convolve1d or stride2"], capture_output=True, text=True, cwd=tmp_path,
        timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stdout[-1500:]
    assert re.search(r"^\d+ passed, \d+ deselected in", proc.stdout, re.M)


def test_extra_tests_are_collected_with_their_marks():
    (first, second) = suites.get("conv_forward").extras
    assert first.id == "test_more::test_batch_images_are_independent"
    assert (first.points, first.tier, first.fixtures) == (1.0, "edge",
                                                          ("learner", "reference", "assert_close"))
    assert second.fixtures == ("learner", "reference", "assert_close")


def test_an_extra_test_asking_for_an_unknown_fixture_is_a_one_line_error(tmp_path):
    folder = shutil.copytree(ROOT / "exercises" / "conv1d", tmp_path / "conv1d")
    (folder / "test_bad.py").write_text("def test_x(learner, tmp_path):\n    pass\n")
    toml = folder / "exercise.toml"
    toml.write_text(toml.read_text().replace("[points]", 'extra_tests = ["test_bad.py"]\n\n[points]'))
    exercise = exercises.load(folder)
    with pytest.raises(exercises.ExerciseError, match="unknown fixture 'tmp_path'"):
        suites._collect(exercise, exercise.extra_tests[0])


LEARNER_OBJECTS = '''
import numpy as np

class Sneaky:
    def __eq__(self, other):
        return True
    def __array__(self, dtype=None, copy=None):
        return np.zeros(3)

class Sub(np.ndarray):
    def __eq__(self, other):
        return True

def conv_forward(x, w, b=None, stride=1, padding=0):
    kind = int(x[0])
    if kind == 0:
        return Sneaky()
    if kind == 1:
        return np.arange(4.0).view(Sub)
    if kind == 2:
        return (np.ones(2), 3, 2.5, None, lambda: 0)
    if kind == 3:
        return (np.ones(2), np.int64(3), 2.5, None)
    raise ValueError("bad x")
'''


def test_learner_proxy_hands_back_only_plain_data():
    """A learner object never reaches the grader: a base ndarray, numbers, tuples and None come
    back; anything else fails the test that asked for it; a learner exception is a grader-side
    exception of the same built-in class, so that `pytest.raises(ValueError)` works."""
    exercise = exercises.resolve("conv_forward")
    load = {"source": LEARNER_OBJECTS, "filename": "objects.py"}
    with WorkerSession(load, list(exercise.functions), exercise.limits) as session:
        assert session.start().kind == "value"
        learner = extras.Learner(exercise, session, time.monotonic() + 60)
        with pytest.raises(extras.LearnerFailure, match="returned a Sneaky object"):
            learner.conv_forward(np.array([0.0]), None)
        sub = learner.conv_forward(np.array([1.0]), None)
        assert type(sub) is np.ndarray and not (sub == np.zeros(4)).all()
        with pytest.raises(extras.LearnerFailure, match="returned a function object"):
            learner.conv_forward(np.array([2.0]), None)
        arr, three, half, none = learner.conv_forward(np.array([3.0]), None)
        assert (type(arr), int(three), type(half), none) == (np.ndarray, 3, float, None)
        assert isinstance(three, (int, np.integer))
        with pytest.raises(ValueError, match="bad x") as raised:
            learner.conv_forward(np.array([4.0]), None)
        assert isinstance(raised.value, extras.LearnerRaised)
        with pytest.raises(AttributeError):
            learner.not_an_exercise_function(1)
        with pytest.raises(TypeError, match="learner calls take"):
            learner.conv_forward(object(), None)


BROADCASTS = """
import numpy as np

def conv_forward(x, w, b=None, stride=1, padding=0):
    return np.zeros((4096, 1)) if padding else np.zeros((1, 2048))
"""


def test_learner_answers_reach_instructor_code_only_in_the_references_layout():
    """An answer shaped unlike the reference's on the same inputs fails the call, diagnosed, before
    instructor code can compute with it (`moved - base` would broadcast to 4096 x 2048 here)."""
    exercise = exercises.resolve("conv_forward")
    x, w = np.ones((2, 3, 5, 6)), np.ones((4, 3, 3, 3))
    with WorkerSession({"source": BROADCASTS, "filename": "wide.py"}, list(exercise.functions),
                       exercise.limits) as session:
        assert session.start().kind == "value"
        learner = extras.Learner(exercise, session, time.monotonic() + 60)
        with pytest.raises(extras.LearnerFailure) as failed:
            learner.conv_forward(x, w, np.zeros(4), padding=1)
        assert failed.value.verdict.status == "failed" and "shape" in failed.value.verdict.message
        assert not learner.calls


def _check_points(result) -> dict[str, float]:
    return {t.id: t.points for t in result.tests}


@pytest.mark.slow
def test_check_grade_and_test_give_the_same_points_per_test(tmp_path):
    """Over part of the bundled class (two .py files, one of them with extra tests, and a
    notebook): the same points per test from `grader check`, `grader grade` and `grader test`."""
    names = ["tina_conv_forward.py", "rosa_conv1d.py", "frank_conv_forward.ipynb"]
    klass = tmp_path / "class"
    klass.mkdir()
    for name in names:
        shutil.copy(ROOT / "examples" / "submissions" / name, klass / name)
    out = tmp_path / "out"
    graded = {g.submission.name: g.result for g in batch.grade_batch([klass], out, jobs=2)}
    docs = {d["submission"]: d for d in json.loads((out / "results.json").read_text())}
    for name in names:
        slug = name.split("_", 1)[1].rsplit(".", 1)[0]
        checked = _check_points(grade.grade_file(exercises.resolve(slug), klass / name))
        report = tmp_path / f"{name}.xml"
        proc = grader_test(tmp_path, slug, "--file", str(klass / name), "-q",
                           f"--junitxml={report}")
        assert proc.returncode in (0, 1), proc.stdout[-2000:] + proc.stderr[-2000:]
        tested = {case: v["points"] for case, v in junit(report).items()}
        doc = docs[name]
        in_gradebook = {t["id"]: t["points"] for t in [*doc["tests"], *doc["extras"]]}
        assert checked == tested == in_gradebook == _check_points(graded[name]), name
        if slug == "conv_forward":
            extra = {"test_more::test_batch_images_are_independent",
                     "test_more::test_bias_shifts_only_its_filter"}
            assert extra <= set(checked)
            assert doc["extras"] and doc["score"] == pytest.approx(sum(checked.values()))
            gradescope = json.loads((out / "submissions" / doc["key"] / "results.json").read_text())
            assert extra <= {t["name"].split(": ", 1)[1] for t in gradescope["tests"]}


def test_readme_example_is_the_shipped_extra_test_file():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Writing hidden tests.*?```python\n(.*?)```", readme, re.S)[1]
    assert block.strip() in (ROOT / "exercises/conv_forward/hidden/test_more.py").read_text()


def test_extra_test_failures_are_diagnosed_without_expected_values():
    exercise = exercises.resolve("conv_forward")
    result = grade.grade_file(exercise, BUGGY / "conv_forward" / "bias-wrong-axis.py")
    extra = [t for t in result.tests if t.extra]
    assert len(extra) == 2 and all(t.status == "failed" and t.points == 0 for t in extra)
    assert {t.diagnosis.slug for t in extra} == {"bias-wrong-axis"}
    assert all(re.fullmatch(r"output is wrong: relative error [\d.e-]+ \(tolerance 1e-10\)",
                            t.message) for t in extra), [t.message for t in extra]


INSTRUCTOR_TESTS = '''
import numpy as np
import pytest

X = np.random.default_rng(1).standard_normal((2, 3, 5, 6))
W = np.random.default_rng(2).standard_normal((4, 3, 3, 3))
B = np.zeros(4)


def test_bare_assert(learner):
    assert learner.conv_forward(X, W, B).shape == (2, 4, 9, 9)


def test_own_message(learner):
    assert learner.conv_forward(X, W, B).shape == (2, 4, 9, 9), "wrong output size"


def test_channel_mismatch_raises(learner):
    with pytest.raises(ValueError):
        learner.conv_forward(X, W[:, :2], B)


@pytest.mark.points(2)
@pytest.mark.parametrize("stride", [1, 2])
def test_strides(learner, reference, assert_close, stride):
    assert_close(learner.conv_forward(X, W, B, stride=stride),
                 reference.conv_forward(X, W, B, stride=stride))
'''


def test_instructor_tests_report_like_cases(tmp_path):
    """Bare asserts name their line, never the values; a learner's ValueError is caught by
    `pytest.raises(ValueError)`; parametrized tests are one test per parameter set."""
    exercise = exercises.resolve("conv_forward")
    path = tmp_path / "test_mine.py"
    path.write_text(INSTRUCTOR_TESTS)
    tests = suites._collect(exercise, path)
    assert [t.id for t in tests] == ["test_mine::test_bare_assert", "test_mine::test_own_message",
                                     "test_mine::test_channel_mismatch_raises",
                                     "test_mine::test_strides[1]", "test_mine::test_strides[2]"]
    assert tests[-1].points == 2
    load = {"source": (ROOT / "tests/submissions/naive/conv_forward.py").read_text(),
            "filename": "a.py"}
    with WorkerSession(load, list(exercise.functions), exercise.limits) as session:
        assert session.start().kind == "value"
        results = {t.id.split("::")[1]: extras.run_extra(t, exercise, session,
                                                          time.monotonic() + 60)
                   for t in tests}
    assert results["test_bare_assert"].message == "assertion failed (test_mine.py, line 11)"
    assert results["test_own_message"].message == "wrong output size"
    assert {k: r.status for k, r in results.items()} == {
        "test_bare_assert": "failed", "test_own_message": "failed",
        "test_channel_mismatch_raises": "passed", "test_strides[1]": "passed",
        "test_strides[2]": "passed"}
