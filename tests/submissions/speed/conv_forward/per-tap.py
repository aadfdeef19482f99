# Correct: a Python loop over the KH*KW kernel taps only, one tensordot per tap over the
# channels (vectorized over N, H and W).
import numpy as np


def conv_forward(x, w, b, stride=1, padding=0):
    if getattr(x, "dtype", None) is None or x.dtype.kind != "f" or w.dtype.kind != "f":
        raise ValueError("x and w must be floating point arrays")
    if b is not None and b.dtype.kind != "f":
        raise ValueError("b must be a floating point array")
    N, C, H, W = x.shape
    F, Cw, KH, KW = w.shape
    if Cw != C:
        raise ValueError(f"x has C={C} channels, w expects {Cw}")
    sh, sw = (stride, stride) if np.ndim(stride) == 0 else stride
    if min(sh, sw) < 1:
        raise ValueError(f"bad stride {stride}")
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"bad padding {padding}")
        if padding == "same" and (sh > 1 or sw > 1):
            raise ValueError("'same' needs stride 1")
        t, l = ((KH - 1) // 2, (KW - 1) // 2) if padding == "same" else (0, 0)
        bt, r = ((KH - 1) - t, (KW - 1) - l) if padding == "same" else (0, 0)
    else:
        t, l = (padding, padding) if np.ndim(padding) == 0 else padding
        if min(t, l) < 0:
            raise ValueError(f"bad padding {padding}")
        bt, r = t, l
    H_out = (H + t + bt - KH) // sh + 1
    W_out = (W + l + r - KW) // sw + 1
    if H_out < 1 or W_out < 1:
        raise ValueError(f"output would be {H_out}x{W_out} for a {H}x{W} input and {KH}x{KW} kernel")

    xp = np.pad(x, ((0, 0), (0, 0), (t, bt), (l, r)))
    out = np.zeros((N, H_out, W_out, F), dtype=np.result_type(x, w))
    for u in range(KH):
        for v in range(KW):
            patch = xp[:, :, u:u + sh * H_out:sh, v:v + sw * W_out:sw]  # (N, C, H_out, W_out)
            out += np.tensordot(patch, w[:, :, u, v], axes=([1], [1]))  # (N, H_out, W_out, F)
    out = out.transpose(0, 3, 1, 2)
    if b is not None:
        out = out + b[None, :, None, None]
    return out.astype(x.dtype)
