"""Does the worker boundary hold? Each hostile learner file scores exactly what its honest part earns."""

from __future__ import annotations

import json
import textwrap
import time

import numpy as np
import pytest

from grader import suites
from grader import worker as wire
from tests.conftest import points_of

HONEST_CONVOLVE1D = textwrap.dedent('''
    import numpy as np

    def convolve1d(a, v, mode="full"):
        a, v = np.asarray(a), np.asarray(v)
        if len(a) == 0 or len(v) == 0 or mode not in ("full", "same", "valid"):
            raise ValueError("empty input or unknown mode")
        if len(v) > len(a):
            a, v = v, a
        n, m = len(a), len(v)
        full = np.zeros(n + m - 1, dtype=np.result_type(a, v))
        for k in range(m):
            full[k:k + n] += v[k] * a
        if mode == "full":
            return full
        if mode == "same":
            return full[(m - 1) // 2:][:n]
        return full[m - 1:n]
''')

HOSTILE_CONV1D = {
    "loops-forever": "while True:\n        pass",
    "os-exit": "import os\n    os._exit(0)",
    "sys-exit": "import sys\n    sys.exit(0)",
    "segfault": "import ctypes\n    ctypes.string_at(0)",
    "allocates-10gb": "return np.ones(10 * 1024**3 // 8)",
    "patches-numpy": ("import numpy.testing\n    numpy.testing.assert_allclose = lambda *a, **k: None\n"
                      "    np.allclose = lambda *a, **k: True\n    np.array_equal = lambda *a, **k: True\n"
                      "    np.testing.assert_array_equal = lambda *a, **k: None\n"
                      "    return np.zeros(1)"),
    "reads-caller-frames": ("import inspect, gc\n    frame = inspect.currentframe().f_back\n"
                            "    while frame is not None:\n"
                            "        for key in ('expected', 'ref', 'want'):\n"
                            "            if key in frame.f_locals:\n"
                            "                return frame.f_locals[key]\n"
                            "        frame = frame.f_back\n"
                            "    return np.zeros(3)"),
    "lying-ndarray": ("class Liar(np.ndarray):\n"
                      "        def __eq__(self, other):\n            return np.ones(1, bool)\n"
                      "    return np.zeros(3).view(Liar)"),
    "returns-object-array": "return np.array([object()] * 3)",
    "prints-fake-results": ("print('== 40 passed ==', '{\"ok\": true}')\n"
                            "    import sys; sys.stdout.write('\\x00' * 64)\n    return None"),
}


@pytest.mark.parametrize("behaviour", list(HOSTILE_CONV1D), ids=list(HOSTILE_CONV1D))
def test_hostile_function_scores_only_the_honest_part(grade_text, behaviour):
    """Does a hostile conv1d cost only conv1d's points, in bounded time, with a named reason?"""
    body = "    " + HOSTILE_CONV1D[behaviour]
    source = HONEST_CONVOLVE1D + f"\n\ndef conv1d(x, w, b=None, stride=1, padding=0, dilation=1):\n{body}\n"
    start = time.monotonic()
    result = grade_text("conv1d", source, call_timeout_s=1.5, memory_mb=1024)
    assert time.monotonic() - start < 30
    assert result.status == "graded"
    assert result.score == pytest.approx(points_of("conv1d", "convolve1d"))
    lost = [t for t in result.tests if t.function == "conv1d"]
    assert lost and all(t.status != "passed" and t.message for t in lost)


@pytest.mark.slow
def test_reasons_are_named(grade_text):
    """Are timeouts, crashes, early exits and memory failures told apart in the messages?"""
    expected = {"loops-forever": "timed out", "os-exit": "exited early", "segfault": "SIGSEGV",
                "allocates-10gb": "memory limit", "sys-exit": "SystemExit"}
    for behaviour, phrase in expected.items():
        body = "    " + HOSTILE_CONV1D[behaviour]
        source = HONEST_CONVOLVE1D + f"\ndef conv1d(x, w, b=None, stride=1, padding=0, dilation=1):\n{body}\n"
        result = grade_text("conv1d", source, call_timeout_s=1.5)
        first = next(t for t in result.tests if t.function == "conv1d")
        assert phrase in first.message, (behaviour, first.message)


def test_exit_at_import_is_an_error_not_a_pass(grade_text):
    """Is a module that calls os._exit(0) while importing reported as ungradable, scoring 0?"""
    result = grade_text("conv1d", "import os\nos._exit(0)\n")
    assert result.status == "error" and result.score == 0
    assert "exited early" in result.message


def test_syntax_error_names_the_line(grade_text):
    result = grade_text("conv1d", "import numpy as np\n\ndef convolve1d(a, v, mode='full')\n    pass\n")
    assert result.status == "error" and "SyntaxError" in result.message
    assert "line 3" in result.message


def test_forbidden_call_fails_with_a_clear_message(grade_text):
    """Does np.convolve inside convolve1d fail those tests, even when imported under another name?"""
    source = ("from numpy import convolve as c\n\n"
              "def convolve1d(a, v, mode='full'):\n    return c(a, v, mode)\n")
    result = grade_text("conv1d", source)
    tests = [t for t in result.tests if t.function == "convolve1d"]
    assert tests and all(t.status == "failed" for t in tests)
    assert all(t.diagnosis and t.diagnosis.slug == "uses-forbidden-call" for t in tests)
    assert "numpy.convolve" in tests[0].message


def test_missing_function_costs_only_its_tests(grade_text):
    result = grade_text("conv1d", HONEST_CONVOLVE1D)
    assert result.score == pytest.approx(points_of("conv1d", "convolve1d"))
    missing = [t for t in result.tests if t.function == "conv1d"]
    assert all("not defined" in t.message for t in missing)


@pytest.mark.parametrize("value", [
    np.arange(6, dtype=np.float32).reshape(2, 3),
    np.asfortranarray(np.ones((3, 4))),
    (np.zeros(2, np.int64), None, [1.5, "x", True]),
    np.float64(2.5),
])
def test_wire_round_trip(value):
    blobs: list[bytes] = []
    back = wire.decode(wire.encode(value, blobs), blobs)
    if isinstance(value, tuple):
        assert np.array_equal(back[0], value[0]) and back[1:] == value[1:]
    else:
        assert np.array_equal(back, value) and np.asarray(back).dtype == np.asarray(value).dtype


def test_wire_refuses_objects_and_forged_arrays():
    """Are object arrays and arrays whose bytes do not match their shape refused, never unpickled?"""
    blobs: list[bytes] = []
    assert isinstance(wire.decode(wire.encode(np.array([object()]), blobs), blobs), wire.Opaque)
    forged = {"t": "array", "i": 0, "dtype": "<f8", "shape": [1000]}
    with pytest.raises(wire.WireError):
        wire.decode(forged, [b"\x00" * 8])
    with pytest.raises((wire.WireError, TypeError)):
        wire.decode({"t": "array", "i": 0, "dtype": "|O", "shape": [1]}, [b"\x00" * 8])


def test_ndarray_subclass_comes_back_as_plain_array():
    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

    blobs: list[bytes] = []
    back = wire.decode(wire.encode(np.zeros(3).view(Liar), blobs), blobs)
    assert type(back) is np.ndarray


@pytest.mark.parametrize("returned", ["dx", "(dx, dw)", "None", "[dx]"])
def test_wrong_return_structure_is_a_verdict_not_a_crash(grade_text, returned):
    """conv_backward must return (dx, dw, db): anything else fails each case with a message."""
    source = ("import numpy as np\n\ndef conv_backward(dout, x, w, stride=1, padding=0):\n"
              "    dx, dw = np.zeros_like(x), np.zeros_like(w)\n"
              f"    return {returned}\n")
    result = grade_text("conv_backward", source)
    raising = {c.id for c in suites.get("conv_backward").cases if c.raises}
    valued = [t for t in result.tests if t.function == "conv_backward" and t.id not in raising]
    assert result.status == "graded" and valued
    for test in valued:
        assert test.status == "failed" and test.points == 0
        assert "expected a tuple of 3 arrays" in test.message, test.message


@pytest.mark.parametrize("shape", [[float("inf")], [2**62, 2**62], [-1], ["3"], [[1]]])
def test_forged_shapes_are_wire_errors_not_crashes(shape):
    """Is a shape that is non-finite, huge, negative or not an int refused as malformed?"""
    with pytest.raises(wire.WireError):
        wire.decode({"t": "array", "i": 0, "dtype": "<f8", "shape": shape}, [b""])


def test_learner_text_is_capped_when_the_reply_is_read():
    """Does the grader keep at most a few KiB of a forged error reply, whatever it holds?"""
    from grader.boundary import _error_fields

    error = _error_fields({"type": "X" * 10**6, "mro": ["Y" * 10**5] * 10**4,
                           "message": "m" * 10**7, "traceback": "t" * 10**7, "lineno": "9" * 99})
    assert len(json.dumps(error)) < 10_000 and error["lineno"] is None
