"""Are the interview follow-up answers right? Every number in solutions/<slug>.md sits in its table
of numbers, and each one is recomputed here from the layer's sizes (and, where it can be, from the
model answer itself); each README ends with the questions those answers answer."""

from __future__ import annotations

import importlib
import math
import re

import numpy as np
import pytest

from tests.conftest import ROOT, SLUGS

ROW = re.compile(r"^\| `(\w+)` \| ([-+0-9.,e]+) \|", re.M)
BIG_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?![\d,])")  # 1,806,336 and the like


def out(n, k, s=1, p=0, d=1):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def receptive_field(kernel, dilations):
    return 1 + sum((kernel - 1) * d for d in dilations)


def conv1d_numbers(v):
    L_out = out(v["L"], v["K"], v["s"], v["p"], v["d"])
    fft = 2 ** math.ceil(math.log2(v["signal"] + v["taps"] - 1))
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
        "receptive_field_3_layers": receptive_field(v["K"], [1, 1, 1]),
        "convolve_macs": v["signal"] * v["taps"],
        "convolve_full_length": v["signal"] + v["taps"] - 1,
        "fft_size": fft,
        "fft_log2": int(math.log2(fft)),
    }


def conv2d_numbers(v):
    H_out, W_out = out(v["H"], v["K"], v["s"], v["p"]), out(v["W"], v["K"], v["s"], v["p"])
    macs = v["N"] * v["F"] * v["C"] * v["K"] ** 2 * H_out * W_out
    return {
        "H_out": H_out,
        "W_out": W_out,
        "macs": macs,
        "params": v["F"] * v["C"] * v["K"] ** 2 + v["F"],
        "input_elements": v["N"] * v["C"] * v["H"] * v["W"],
        "output_elements": v["N"] * v["F"] * H_out * W_out,
        "im2col_rows": v["C"] * v["K"] ** 2,
        "im2col_columns": v["N"] * H_out * W_out,
        "im2col_elements": v["N"] * v["C"] * v["K"] ** 2 * H_out * W_out,
        "im2col_blowup": v["K"] ** 2 * H_out * W_out / (v["H"] * v["W"]),
        "im2col_bytes_float32": 4 * v["N"] * v["C"] * v["K"] ** 2 * H_out * W_out,
        "stride2_H_out": out(v["H"], v["K"], 2, v["p"]),
        "stride2_macs": v["N"] * v["F"] * v["C"] * v["K"] ** 2 * out(v["H"], v["K"], 2, v["p"])
        * out(v["W"], v["K"], 2, v["p"]),
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
                      "gp", "check_error_bound"},
    "conv_strided_dilated": {"N", "C", "H", "W", "F", "K", "p", "d"},
    "pooling": {"N", "C", "H", "W", "k", "s", "p"},
}


def table(slug: str) -> tuple[str, dict[str, float]]:
    text = (ROOT / "solutions" / f"{slug}.md").read_text()
    rows = {name: float(value.replace(",", "")) for name, value in ROW.findall(text)}
    return text, {k: int(v) if v.is_integer() else v for k, v in rows.items()}


@pytest.mark.parametrize("slug", SLUGS)
def test_every_number_in_the_table_is_recomputed(slug):
    _, rows = table(slug)
    assert INPUTS[slug] <= rows.keys(), INPUTS[slug] - rows.keys()
    expected = NUMBERS[slug](rows)
    unchecked = rows.keys() - expected.keys() - INPUTS[slug]
    assert not unchecked, f"numbers no formula checks: {sorted(unchecked)}"
    wrong = {k: (rows[k], want) for k, want in expected.items()
             if k in rows and not math.isclose(rows[k], want, rel_tol=1e-9)}
    assert not wrong, wrong
    assert expected.keys() <= rows.keys(), expected.keys() - rows.keys()


@pytest.mark.parametrize("slug", SLUGS)
def test_big_numbers_in_the_prose_come_from_the_table(slug):
    text, rows = table(slug)
    values = {v for v in rows.values()}
    for number in BIG_NUMBER.findall(text):
        assert int(number.replace(",", "")) in values, number


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


def test_im2col_of_the_model_answer_has_the_size_the_answer_states():
    _, v = table("conv_forward")
    conv_forward = importlib.import_module("solutions.conv_forward")
    x = np.zeros((v["N"], v["C"], v["H"], v["W"]), np.float32)
    w = np.zeros((v["F"], v["C"], v["K"], v["K"]), np.float32)
    y = conv_forward.conv_forward(x, w, None, v["s"], v["p"])
    assert y.shape == (v["N"], v["F"], v["H_out"], v["W_out"])
    assert v["im2col_rows"] * y.shape[2] * y.shape[3] * v["N"] == v["im2col_elements"]


def test_the_numerical_gradient_check_meets_the_stated_bound():
    """The small layer of the answer, checked the way the answer says: central differences."""
    _, v = table("conv_backward")
    forward = importlib.import_module("solutions.conv_forward").conv_forward
    backward = importlib.import_module("solutions.conv_backward").conv_backward
    rng = np.random.default_rng(0)
    x = rng.standard_normal((v["gN"], v["gC"], v["gH"], v["gW"]))
    w = rng.standard_normal((v["gF"], v["gC"], v["gK"], v["gK"]))
    b = rng.standard_normal(v["gF"])
    dout = rng.standard_normal(forward(x, w, b, 1, v["gp"]).shape)
    dx, passes = backward(dout, x, w, 1, v["gp"])[0], 0
    num, h = np.zeros_like(x), 1e-6
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        plus = np.sum(forward(x, w, b, 1, v["gp"]) * dout)
        x[idx] = old - h
        minus = np.sum(forward(x, w, b, 1, v["gp"]) * dout)
        x[idx], passes = old, passes + 2
        num[idx] = (plus - minus) / (2 * h)
    error = np.max(np.abs(dx - num)) / np.max(np.abs(num))
    assert error <= v["check_error_bound"]
    assert passes == 2 * x.size
