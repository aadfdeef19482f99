"""The arithmetic behind the numeric concept questions: the statements' own size formulas, the
output size itself from the model answer (`output_size` of solutions/conv_strided_dilated.py).

Each function takes the values a question draws (keyword arguments named as in its prompt) and
returns the exact answer, an int or a tuple of ints; a ValueError means "no such layer" and makes
the question draw again. tests/test_practice_questions.py checks every one against the reference
solutions run on arrays of the drawn shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache


@cache
def _output_size() -> Callable[..., int]:
    """The model answer's own size helper, from the most general layer (stride, padding, dilation)."""
    from grader import suites

    return suites.get("conv_strided_dilated").reference.output_size


def conv_out(H: int, K: int, P: int = 0, S: int = 1, D: int = 1) -> int:
    """floor((H + 2P - D*(K-1) - 1) / S) + 1, as in PyTorch; ValueError when it is below 1."""
    return _output_size()(H, K, S, P, D)


def effective_kernel(K: int, D: int) -> int:
    return D * (K - 1) + 1


def convolve_len(N: int, M: int, mode: str) -> int:
    """Length of np.convolve(a, v, mode) for len(a) = N, len(v) = M."""
    return {"full": N + M - 1, "same": max(N, M), "valid": max(N, M) - min(N, M) + 1}[mode]


def conv_params(C: int, F: int, K: int, G: int = 1, bias: int = 1, dims: int = 2) -> int:
    """Weights F * (C/G) * K^dims, plus F biases when `bias`."""
    if C % G or F % G:
        raise ValueError("groups must divide C and F")
    return F * (C // G) * K ** dims + (F if bias else 0)


def separable_params(C: int, F: int, K: int) -> int:
    """Depthwise KxK (one filter per channel) then pointwise 1x1 C -> F, no biases."""
    return C * K * K + C * F


def conv_macs(H: int, C: int, F: int, K: int, P: int = 0, S: int = 1) -> int:
    """Multiply-adds of one image through a KxK conv on an HxH input: H_out^2 * F * C * K^2."""
    return conv_out(H, K, P, S) ** 2 * F * C * K * K


def im2col_bytes(N: int, C: int, H: int, K: int, P: int, S: int, dtype: str) -> int:
    """Bytes of the (C*K*K, N*H_out*W_out) column matrix of a square input and kernel."""
    itemsize = {"float32": 4, "float64": 8}[dtype]
    return C * K * K * N * conv_out(H, K, P, S) ** 2 * itemsize


def out_shape(N: int, C: int, H: int, W: int, F: int, KH: int, KW: int, P: int = 0,
              S: int = 1) -> tuple[int, int, int, int]:
    """(N, F, H_out, W_out) of a conv layer: also the shape its backward's dout must have."""
    return (N, F, conv_out(H, KH, P, S), conv_out(W, KW, P, S))


def dx_shape(N: int, C: int, H: int, W: int, F: int, KH: int, KW: int, P: int = 0,
             S: int = 1) -> tuple[int, int, int, int]:
    """dx has the shape of x, whatever the padding and stride (the layer must exist)."""
    out_shape(N, C, H, W, F, KH, KW, P, S)
    return (N, C, H, W)


def reads_of(H: int, K: int, S: int, i: int) -> int:
    """How many output positions of a 1-D window (kernel K, stride S, no padding) read x[i]."""
    if i >= H:
        raise ValueError("i outside the input")
    return sum(1 for j in range(conv_out(H, K, 0, S)) if 0 <= i - j * S < K)


def unread_rows(H: int, K: int, S: int, P: int) -> int:
    """Bottom rows of x that no window reads, so dx is exactly 0 there."""
    span = (conv_out(H, K, P, S) - 1) * S + K  # padded rows the windows cover, from the top
    return max(0, H + P - span)


def receptive_field(K: int, L: int, S: int = 1, dilations: str = "same") -> int:
    """Receptive field of L stacked KxK layers: stride S on the first layer only, and dilation
    1 everywhere or doubling (1, 2, 4, ...) with `dilations="doubling"`."""
    rf, jump = 1, 1
    for layer in range(L):
        d = 2 ** layer if dilations == "doubling" else 1
        rf += d * (K - 1) * jump
        jump *= S if layer == 0 else 1
    return rf


def same_pad_after(K: int, D: int) -> int:
    """Rows padding='same' adds at the bottom (the extra one for an even extent goes there)."""
    total = D * (K - 1)
    return total - total // 2


def transposed_out(H: int, K: int, S: int, P: int, OP: int) -> int:
    """ConvTranspose2d output size: (H - 1)*S - 2P + K + OP."""
    if not 0 <= OP < S:
        raise ValueError("output_padding must be smaller than the stride")
    out = (H - 1) * S - 2 * P + K + OP
    if P >= K or out - OP < 1 or conv_out(out, K, P, S) != H:
        raise ValueError("no such layer")
    return out


def pool_out(H: int, K: int, S: int | None = None, P: int = 0) -> int:
    """Floor-mode pooling size; the stride defaults to the kernel size; padding <= K/2."""
    if 2 * P > K:
        raise ValueError("pad at most half the kernel")
    return conv_out(H, K, P, K if S is None else S)


def max_grad_count(H: int, K: int, S: int, i: int) -> int:
    """Gradient reaching a single global maximum at (i, i) when every dout is 1: the number of
    KxK, stride-S windows (no padding) that contain it."""
    return reads_of(H, K, S, i) ** 2


FORMULAS: dict[str, Callable[..., int | tuple[int, ...]]] = {
    f.__name__: f for f in (conv_out, effective_kernel, convolve_len, conv_params, separable_params,
                            conv_macs, im2col_bytes, out_shape, dx_shape, reads_of, unread_rows,
                            receptive_field, same_pad_after, transposed_out, pool_out, max_grad_count)
}
