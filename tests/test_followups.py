"""Are the interview follow-up answers right? Every computed number in solutions/<slug>.md sits in
its table of numbers, and each one is recomputed here from the layer's sizes, or measured on the
model answer itself (its im2col matrix, its numerical gradient check); every other number of the
text is a table value or a given size listed here as such; each README ends with the questions
those answers answer."""

from __future__ import annotations

import importlib
import math
import re
import sys

import numpy as np
import pytest

from tests.conftest import ROOT, SLUGS

ROW = re.compile(r"^\| `(\w+)` \| ([-+0-9.,e]+) \|", re.M)
# a number of the text: 1,806,336, 0.23, 1e-10, each side of 3x3; not the 32 of float32 nor an
# exponent of a formula (K^2)
NUMBER = re.compile(r"(?<![\w.^])\d{1,3}(?:,\d{3})+(?![\d])|(?<![\w.^])\d+(?:\.\d+)?(?:e-?\d+)?")
# Numbers of the text that are given, not computed: the phrases that hold them.
GIVEN = {
    "conv1d": ["dilations 1, 2, 4, 8", "Winograd for 3-tap kernels",
               # measured on this machine (a loaded 2-core VM): machine-dependent, not tested
               "between about 500 and 700 taps"],
    "conv_forward": ["At stride 2", "`N=2, C=3, F=5, H=7, W=9, KH=3, KW=2`",
                     "F(2x2, 3x3): computes a 2x2 output tile", "say 7x7 and up"],
    "conv_backward": ["rotated 180 degrees", "get exactly 0"],
    "conv_strided_dilated": ["`groups=32`", "dilations 1, 2, 4"],
    "pooling": ["a 7x7x2048 feature map"],
}


def out(n, k, s=1, p=0, d=1):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def receptive_field(kernel, dilations):
    return 1 + sum((kernel - 1) * d for d in dilations)


def fft_size(signal, taps):
    return 2 ** math.ceil(math.log2(signal + taps - 1))


def fft_ops(n):
    """Three transforms of n log2 n each and n products: the count the answer makes."""
    return 3 * n * int(math.log2(n)) + n


def conv1d_numbers(v):
    L_out = out(v["L"], v["K"], v["s"], v["p"], v["d"])
    fft = fft_size(v["signal"], v["taps"])
    crossover = next(m for m in range(1, v["signal"])
                     if v["signal"] * m > fft_ops(fft_size(v["signal"], m)))
    return {
        "L_out": L_out,
        "macs": v["N"] * v["F"] * v["C"] * v["K"] * L_out,
        "params": v["F"] * v["C"] * v["K"] + v["F"],
        "weights": v["F"] * v["C"] * v["K"],
        "dot_length": v["C"] * v["K"],
        "input_elements": v["N"] * v["C"] * v["L"],
        "im2col_elements": v["N"] * v["C"] * v["K"] * L_out,
        "im2col_blowup": v["C"] * v["K"] * L_out / (v["C"] * v["L"]),
        "im2col_bytes_float32": 4 * v["N"] * v["C"] * v["K"] * L_out,
        "receptive_field_wavenet": receptive_field(2, [1, 2, 4, 8]),
        "weights_wavenet": 2 * len([1, 2, 4, 8]),
        "receptive_field_3_layers": receptive_field(v["K"], [1, 1, 1]),
        "convolve_macs": v["signal"] * v["taps"],
        "convolve_full_length": v["signal"] + v["taps"] - 1,
        "fft_size": fft,
        "fft_log2": int(math.log2(fft)),
        "fft_ops": fft_ops(fft),
        "fft_crossover_taps": crossover,
    }


def conv2d_numbers(v):
    H_out, W_out = out(v["H"], v["K"], v["s"], v["p"]), out(v["W"], v["K"], v["s"], v["p"])
    macs = v["N"] * v["F"] * v["C"] * v["K"] ** 2 * H_out * W_out
    return {
        "H_out": H_out,
        "W_out": W_out,
        "macs": macs,
        "gflop": round(2 * macs / 1e9, 2),
        "params": v["F"] * v["C"] * v["K"] ** 2 + v["F"],
        "input_elements": v["N"] * v["C"] * v["H"] * v["W"],
        "output_elements": v["N"] * v["F"] * H_out * W_out,
        "im2col_rows": v["N"] * H_out * W_out,
        "im2col_columns": v["C"] * v["K"] ** 2,
        "im2col_elements": v["N"] * v["C"] * v["K"] ** 2 * H_out * W_out,
        "im2col_blowup": v["K"] ** 2 * H_out * W_out / (v["H"] * v["W"]),
        "im2col_bytes_float32": 4 * v["N"] * v["C"] * v["K"] ** 2 * H_out * W_out,
        "stride2_H_out": out(v["H"], v["K"], 2, v["p"]),
        "stride2_macs": v["N"] * v["F"] * v["C"] * v["K"] ** 2 * out(v["H"], v["K"], 2, v["p"])
        * out(v["W"], v["K"], 2, v["p"]),
        "winograd_tile": 2 + 3 - 1,
        "winograd_multiplies": (2 + 3 - 1) ** 2,  # F(2x2, 3x3): one 4x4 tile per 2x2 outputs
        "direct_multiplies": 2 * 2 * 3 * 3,
        "winograd_saving": round(2 * 2 * 3 * 3 / (2 + 3 - 1) ** 2, 2),
        "receptive_field_two_3x3": receptive_field(3, [1, 1]),
        "weights_two_3x3": 2 * 3 * 3,
        "weights_one_5x5": 5 * 5,
    }


def conv_backward_numbers(v):
    numbers = conv2d_numbers(v)
    g = {"N": v["gN"], "C": v["gC"], "H": v["gH"], "W": v["gW"], "F": v["gF"], "K": v["gK"],
         "s": 1, "p": v["gp"]}
    small = conv2d_numbers(g)
    elements = g["N"] * g["C"] * g["H"] * g["W"] + g["F"] * g["C"] * g["K"] ** 2 + g["F"]
    return {
        **{k: numbers[k] for k in ("H_out", "W_out", "macs", "output_elements")},
        "dx_macs": numbers["macs"],
        "dw_macs": numbers["macs"],
        "backward_macs": 2 * numbers["macs"],
        "db_adds": numbers["output_elements"],
        "check_elements": elements,
        "check_forward_passes": 2 * elements,
        "check_forward_macs": small["macs"],
        "check_total_macs": 2 * elements * small["macs"],
    }


def conv_strided_dilated_numbers(v):
    H_out = out(v["H"], v["K"], 1, v["p"], v["d"])
    positions = v["N"] * H_out * H_out
    dense = v["F"] * v["C"] * v["K"] ** 2 * positions
    depthwise = v["C"] * v["K"] ** 2 * positions
    pointwise = v["F"] * v["C"] * positions
    return {
        "extent": v["d"] * (v["K"] - 1) + 1,
        "H_out": H_out,
        "macs": dense,
        "params": v["F"] * v["C"] * v["K"] ** 2 + v["F"],
        "undilated_5x5_macs": v["F"] * v["C"] * 25 * positions,
        "groups32_params": v["F"] * (v["C"] // 32) * v["K"] ** 2,
        "groups32_macs": dense // 32,
        "depthwise_params": v["C"] * v["K"] ** 2,
        "depthwise_macs": depthwise,
        "pointwise_params": v["F"] * v["C"],
        "pointwise_macs": pointwise,
        "separable_macs": depthwise + pointwise,
        "separable_saving": round(dense / (depthwise + pointwise), 2),
        "stride2_H_out": out(v["H"], v["K"], 2, 1),
        "receptive_field_1_2_4": receptive_field(v["K"], [1, 2, 4]),
        "receptive_field_1_1_1": receptive_field(v["K"], [1, 1, 1]),
    }


def pooling_numbers(v):
    H_out = out(v["H"], v["k"], v["s"], v["p"])
    outputs = v["N"] * v["C"] * H_out * H_out
    return {
        "H_out": H_out,
        "outputs": outputs,
        "window_size": v["k"] ** 2,
        "comparisons_per_window": v["k"] ** 2 - 1,
        "comparisons": outputs * (v["k"] ** 2 - 1),
        "params": 0,
        "argmax_bytes_int64": 8 * outputs,
        "windows_per_cell": math.ceil(v["k"] / v["s"]) ** 2,
        "gap_inputs": 7 * 7 * 2048,
        "gap_outputs": 2048,
    }


NUMBERS = {"conv1d": conv1d_numbers, "conv_forward": conv2d_numbers,
           "conv_backward": conv_backward_numbers,
           "conv_strided_dilated": conv_strided_dilated_numbers, "pooling": pooling_numbers}
# The layer's sizes, as the tables give them: inputs to the formulas, not results.
INPUTS = {
    "conv1d": {"N", "C", "L", "F", "K", "s", "p", "d", "signal", "taps"},
    "conv_forward": {"N", "C", "H", "W", "F", "K", "s", "p"},
    "conv_backward": {"N", "C", "H", "W", "F", "K", "s", "p", "gN", "gC", "gH", "gW", "gF", "gK",
                      "gp", "check_h", "check_error_bound"},
    "conv_strided_dilated": {"N", "C", "H", "W", "F", "K", "p", "d"},
    "pooling": {"N", "C", "H", "W", "k", "s", "p"},
}


# Measured on the model answer, not computed: test_the_numerical_gradient_check_meets_the_stated_bounds
MEASURED = {"conv_backward": {"check_error_low", "check_error_high", "check_error_flipped"}}


def table(slug: str) -> tuple[str, dict[str, float]]:
    text = (ROOT / "solutions" / f"{slug}.md").read_text()
    rows = {name: float(value.replace(",", "")) for name, value in ROW.findall(text)}
    return text, {k: int(v) if v.is_integer() else v for k, v in rows.items()}


@pytest.mark.parametrize("slug", SLUGS)
def test_every_number_in_the_table_is_recomputed(slug):
    _, rows = table(slug)
    assert INPUTS[slug] <= rows.keys(), INPUTS[slug] - rows.keys()
    expected = NUMBERS[slug](rows)
    unchecked = rows.keys() - expected.keys() - INPUTS[slug] - MEASURED.get(slug, set())
    assert not unchecked, f"numbers no formula checks: {sorted(unchecked)}"
    wrong = {k: (rows[k], want) for k, want in expected.items()
             if k in rows and not math.isclose(rows[k], want, rel_tol=1e-9)}
    assert not wrong, wrong
    assert expected.keys() <= rows.keys(), expected.keys() - rows.keys()


def prose(text: str) -> str:
    """The text outside the table, its section numbers left out, on one line."""
    lines = [re.sub(r"^### \d+\.", "", line) for line in text.splitlines() if not line.startswith("|")]
    return " ".join(" ".join(lines).split())


def prose_numbers(text: str) -> list[str]:
    return NUMBER.findall(re.sub(r"(?<=\d)x(?=\d)", " x ", text))


@pytest.mark.parametrize("slug", SLUGS)
def test_every_number_of_the_text_is_a_table_value_or_given(slug):
    text, rows = table(slug)
    text = prose(text)
    for phrase in GIVEN[slug]:
        assert phrase in text, f"given phrase no longer in the text: {phrase!r}"
        text = text.replace(phrase, "")
    values = set(rows.values())
    stray = [n for n in prose_numbers(text) if float(n.replace(",", "")) not in values]
    assert not stray, f"numbers neither in the table nor given: {stray}"


def test_the_number_check_sees_every_kind_of_number():
    text = "### 2. costs 1,806,336 (0.23 GFLOP), near 1e-10, 3x3, float32, 2^17, 8 weights\n| `x` | 5 |"
    assert prose_numbers(prose(text)) == ["1,806,336", "0.23", "1e-10", "3", "3", "2", "8"]


@pytest.mark.parametrize("slug", SLUGS)
def test_readme_ends_with_the_follow_up_questions(slug):
    readme = (ROOT / "exercises" / slug / "README.md").read_text()
    last = readme.rsplit("\n## ", 1)[1]
    assert last.startswith("Interview follow-ups")
    assert f"solutions/{slug}.md" in last
    questions = re.findall(r"^\d+\. ", last, re.M)
    answers = re.findall(r"^### \d+\. ", (ROOT / "solutions" / f"{slug}.md").read_text(), re.M)
    assert len(questions) >= 4 and len(answers) == len(questions)


@pytest.mark.parametrize("slug", SLUGS)
def test_output_sizes_agree_with_the_model_answer(slug):
    _, v = table(slug)
    output_size = importlib.import_module(f"solutions.{slug}").output_size
    if slug == "conv1d":
        assert output_size(v["L"], v["K"], v["s"], v["p"], v["d"]) == v["L_out"]
    elif slug == "pooling":
        assert output_size(v["H"], v["k"], v["s"], v["p"]) == v["H_out"]
    else:
        assert output_size(v["H"], v["K"], v.get("s", 1), v["p"], v.get("d", 1)) == v["H_out"]


def local_at_return(function, name: str, *args):
    """The value of `function`'s local variable `name` when it returns: the model answer's own
    intermediate, measured rather than recomputed."""
    seen = {}

    def profile(frame, event, arg):
        if event == "return" and frame.f_code is function.__code__:
            seen.update(frame.f_locals)

    sys.setprofile(profile)
    try:
        function(*args)
    finally:
        sys.setprofile(None)
    assert name in seen, f"{function.__name__} of the model answer has no local `{name}` any more"
    return seen[name]


def test_im2col_of_the_model_answer_has_the_size_the_answer_states():
    _, v = table("conv_forward")
    conv_forward = importlib.import_module("solutions.conv_forward").conv_forward
    rng = np.random.default_rng(0)
    x = rng.standard_normal((v["N"], v["C"], v["H"], v["W"])).astype(np.float32)
    w = rng.standard_normal((v["F"], v["C"], v["K"], v["K"])).astype(np.float32)
    rows = local_at_return(conv_forward, "rows", x, w, None, v["s"], v["p"])
    assert not np.shares_memory(rows, x)  # a copy: the blow-up is real memory
    assert rows.shape == (v["im2col_rows"], v["im2col_columns"])
    assert rows.size == v["im2col_elements"]
    assert rows.nbytes == v["im2col_bytes_float32"]
    assert rows.size / x.size == v["im2col_blowup"]


def test_im2col_of_the_conv1d_model_answer_has_the_size_the_answer_states():
    _, v = table("conv1d")
    conv1d = importlib.import_module("solutions.conv1d").conv1d
    rng = np.random.default_rng(0)
    x = rng.standard_normal((v["N"], v["C"], v["L"])).astype(np.float32)
    w = rng.standard_normal((v["F"], v["C"], v["K"])).astype(np.float32)
    cols = local_at_return(conv1d, "cols", x, w, None, v["s"], v["p"], v["d"])
    assert not np.shares_memory(cols, x)
    assert cols.shape == (v["N"], v["dot_length"], v["L_out"])
    assert cols.size == v["im2col_elements"]
    assert cols.nbytes == v["im2col_bytes_float32"]
    assert cols.size / x.size == v["im2col_blowup"]


def numerical_gradient_errors(v, seed: int, flip: bool = False) -> tuple[list[float], int]:
    """The check the answer describes, on its small layer: central differences over every entry
    of x, w and b; the relative error of dx, dw and db, and the forward passes it took. With
    `flip`, dx is computed with the kernel flipped (a bug the check must catch)."""
    forward = importlib.import_module("solutions.conv_forward").conv_forward
    backward = importlib.import_module("solutions.conv_backward").conv_backward
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((v["gN"], v["gC"], v["gH"], v["gW"]))
    w = rng.standard_normal((v["gF"], v["gC"], v["gK"], v["gK"]))
    b = rng.standard_normal(v["gF"])
    dout = rng.standard_normal(forward(x, w, b, 1, v["gp"]).shape)
    analytic = backward(dout, x, w[:, :, ::-1, ::-1].copy() if flip else w, 1, v["gp"])
    errors, passes, h = [], 0, v["check_h"]
    for param, grad in zip((x, w, b), analytic):
        numeric = np.zeros_like(param)
        for idx in np.ndindex(param.shape):
            old = param[idx]
            param[idx] = old + h
            plus = np.sum(forward(x, w, b, 1, v["gp"]) * dout)
            param[idx] = old - h
            minus = np.sum(forward(x, w, b, 1, v["gp"]) * dout)
            param[idx], passes = old, passes + 2
            numeric[idx] = (plus - minus) / (2 * h)
        errors.append(float(np.max(np.abs(grad - numeric)) / np.max(np.abs(numeric))))
    return errors, passes


@pytest.mark.parametrize("seed", range(3))
def test_the_numerical_gradient_check_meets_the_stated_bounds(seed):
    """dx, dw and db of the model answer each land in the stated range, below the bound; the
    check takes the stated number of forward passes; a flipped kernel lands above its bound."""
    _, v = table("conv_backward")
    errors, passes = numerical_gradient_errors(v, seed)
    assert passes == v["check_forward_passes"] == 2 * v["check_elements"]
    for name, error in zip(("dx", "dw", "db"), errors):
        assert v["check_error_low"] <= error <= v["check_error_high"] < v["check_error_bound"], \
            (name, error)
    flipped_dx = numerical_gradient_errors(v, seed, flip=True)[0][0]
    assert flipped_dx >= v["check_error_flipped"] > v["check_error_bound"], flipped_dx
