"""Parameter normalisation shared by the reference solutions: int-or-pair values, padding, sizes."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

IntOrPair = int | tuple[int, int]
Padding = int | tuple[int, int] | str
Pads = tuple[tuple[int, int], ...]  # (before, after) for each spatial axis

# Working-set sizes of the chunked loops (see `chunks`), tuned on a 1 MiB L2 / 32 MiB L3 machine.
COLS_BYTES = 1 << 22  # im2col columns of one batch slice: written once, read back by the GEMM
PLANES_BYTES = 1 << 19  # input planes of one pooling block, swept once per kernel tap


def ntuple(value: int | tuple[int, ...], name: str, n: int, minimum: int = 1) -> tuple[int, ...]:
    """`3` -> `(3,) * n`; a length-`n` sequence passes through; every entry an int >= `minimum`."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    is_int = [isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values]
    if len(values) != n or not all(is_int) or min(values) < minimum:
        raise ValueError(f"{name} must be an int >= {minimum} or {n} such ints, got {value!r}")
    return tuple(int(v) for v in values)


def pair(value: IntOrPair, name: str, minimum: int = 1) -> tuple[int, int]:
    """`3` -> `(3, 3)`; `(h, w)` passes through after validation."""
    return ntuple(value, name, 2, minimum)  # type: ignore[return-value]


def resolve_padding(padding: Padding | tuple[int, ...], kernel: tuple[int, ...],
                    stride: tuple[int, ...], dilation: tuple[int, ...]) -> Pads:
    """Turn an int, a tuple, 'valid' or 'same' into explicit (before, after) pads per axis."""
    if not isinstance(padding, str):
        return tuple((p, p) for p in ntuple(padding, "padding", len(kernel), minimum=0))
    if padding == "valid":
        return ((0, 0),) * len(kernel)
    if padding != "same":
        raise ValueError(f"padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    if any(s != 1 for s in stride):
        raise ValueError(f"padding='same' needs stride 1, got stride={stride}")
    totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
    return tuple((t // 2, t - t // 2) for t in totals)  # odd extra cell after, as in PyTorch


def output_size(sizes: tuple[int, ...], pads: Pads, kernel: tuple[int, ...],
                stride: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[int, ...]:
    """floor((n + before + after - d*(k-1) - 1) / s) + 1 per axis; ValueError if any is below 1."""
    out = tuple((n + lo + hi - d * (k - 1) - 1) // s + 1
                for n, (lo, hi), k, s, d in zip(sizes, pads, kernel, stride, dilation, strict=True))
    if min(out) < 1:
        extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
        raise ValueError(f"output size {out} < 1: input size {tuple(sizes)} with padding {pads} "
                         f"is smaller than the effective kernel size {extent}")
    return out


def check_channels(C: int, w_shape: tuple[int, ...], groups: int = 1) -> int:
    """Validate groups against C, F = w_shape[0] and w_shape[1] == C // groups; return groups."""
    F, C_per_group = w_shape[0], w_shape[1]
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"groups must be an int >= 1, got {groups!r}")
    if C % groups or F % groups:
        raise ValueError(f"groups={groups} must divide both C={C} and F={F}")
    if C_per_group != C // groups:
        raise ValueError(f"weight has {C_per_group} input channels per group, "
                         f"expected C // groups = {C} // {groups} = {C // groups}")
    return int(groups)


def pad(x: np.ndarray, pads: Pads, value: float = 0.0) -> np.ndarray:
    """Pad the trailing spatial axes of x (a new array); x itself when there is nothing to pad."""
    if not any(lo or hi for lo, hi in pads):
        return x
    return np.pad(x, ((0, 0),) * (x.ndim - len(pads)) + tuple(pads), constant_values=value)


def taps(kernel: tuple[int, int], stride: tuple[int, int], out: tuple[int, int],
         dilation: tuple[int, int] = (1, 1)) -> Iterator[tuple[int, int, tuple]]:
    """Yield (u, v, idx) per kernel tap in row-major order.

    `xp[idx]` has shape (..., H_out, W_out): the padded-input cell xp[..., i*sh + u*dh, j*sw + v*dw]
    that tap (u, v) meets at every output position (i, j), as one strided slice.
    """
    (KH, KW), (sh, sw), (H_out, W_out), (dh, dw) = kernel, stride, out, dilation
    for u in range(KH):
        for v in range(KW):
            rows = slice(u * dh, u * dh + sh * (H_out - 1) + 1, sh)
            cols = slice(v * dw, v * dw + sw * (W_out - 1) + 1, sw)
            yield u, v, (..., rows, cols)


def chunks(total: int, item_bytes: int, budget: int) -> Iterator[slice]:
    """Consecutive slices of range(total) holding about `budget` bytes of items (at least one).

    A big temporary that is written and read again (im2col columns, pooling sweeps) costs less one
    cache-sized chunk at a time: the re-reads hit the cache, and each chunk reuses the memory of
    the previous one instead of faulting in fresh pages on every call.
    """
    step = max(1, budget // max(item_bytes, 1))
    return (slice(i, min(i + step, total)) for i in range(0, total, step))


def phase_grid(size: tuple[int, int], pads: Pads, kernel: tuple[int, int], stride: tuple[int, int],
               dilation: tuple[int, int], H_out: int) -> tuple[int, int]:
    """(rows, R): the shape of each stride phase of xpad, as `im2col_slices` and `col2im` lay it out.

    phases[.., a, b, i, j] = xpad[.., i*sh + a, j*sw + b], so tap (u, v) meets phases[.., a, b,
    i0 + i, j0 + j] at output (i, j), with (i0, a) = divmod(u*dh, sh) and (j0, b) = divmod(v*dw,
    sw): H_out rows of R values that follow each other in memory, one contiguous run per tap. A
    spare row keeps the end of the last run inside the array.
    """
    (H, W), ((top, bottom), (left, right)), (sh, sw) = size, pads, stride
    R = -(-(W + left + right) // sw)
    rows = max(-(-(H + top + bottom) // sh), (kernel[0] - 1) * dilation[0] // sh + H_out + 1)
    return rows, R


def _phase_parts(size: tuple[int, int], pads: Pads,
                 stride: tuple[int, int]) -> Iterator[tuple[int, int, tuple, tuple]]:
    """Where x lies in each stride phase: (a, b, x's cells, the phase's cells) as index tuples."""
    (H, W), ((top, _), (left, _)), (sh, sw) = size, pads, stride
    for a in range(sh):
        for b in range(sw):
            r, q = (a - top) % sh, (b - left) % sw  # x's first row and column in phase (a, b)
            i, j = (r + top) // sh, (q + left) // sw
            rows, cols = len(range(r, H, sh)), len(range(q, W, sw))
            yield a, b, (..., slice(r, H, sh), slice(q, W, sw)), (..., slice(i, i + rows),
                                                                  slice(j, j + cols))


def _tap_runs(kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int],
              R: int, H_out: int) -> Iterator[tuple[int, int, int, int, slice]]:
    """(u, v, a, b, run) per tap: the flat run of phase (a, b) that tap (u, v) meets."""
    (KH, KW), (sh, sw), (dh, dw) = kernel, stride, dilation
    for u in range(KH):
        for v in range(KW):
            (i, a), (j, b) = divmod(u * dh, sh), divmod(v * dw, sw)
            yield u, v, a, b, slice(i * R + j, (i + H_out) * R + j)


def im2col_slices(x: np.ndarray, pads: Pads, kernel: tuple[int, int], stride: tuple[int, int],
                  H_out: int, dilation: tuple[int, int] = (1, 1), groups: int = 1,
                  extra_bytes: int = 0) -> Iterator[tuple[slice, np.ndarray]]:
    """im2col a slice of the batch at a time: yield (n, cols), cols (len(n), C*KH*KW + 1, H_out*R).

    cols[m, (c, u, v), i*R + j] = xpad[n.start + m, c, i*sh + u*dh, j*sw + v*dw] for j < W_out,
    for x (N, C, H, W) zero-padded by `pads`, and the last row is all ones: a GEMM with the bias
    as one more weight column adds it. With groups, each group's block of C/G*KH*KW rows has its
    own row of ones after it: (n, G*(C/G*KH*KW + 1), H_out*R), reshaped for free to (n, G,
    C/G*KH*KW + 1, H_out*R). Each row of outputs is R >= W_out positions wide (see
    `phase_grid`), so that each tap's values are one contiguous run to copy; the R - W_out extra
    positions at the end of each row are junk, for the caller to drop.

    The slices hold about COLS_BYTES of columns (plus `extra_bytes` per image of the caller's own
    work), which the GEMM then reads back from cache. The buffers are reused by every slice, so
    use `cols` before asking for the next slice. Callers write each slice's product straight into
    their result: fresh pages are slow to fault in, and a second live temporary of this size can
    tip glibc into handing the call's memory back to the kernel, to be faulted in on the next call.
    """
    N, C, H, W = x.shape
    (KH, KW), G = kernel, groups
    rows, R = phase_grid((H, W), pads, kernel, stride, dilation, H_out)
    per_image = (C * KH * KW + G) * H_out * R * x.itemsize + extra_bytes
    slices = list(chunks(N, per_image, COLS_BYTES))
    if not slices:  # an empty batch: nothing to copy
        return
    step = slices[0].stop  # images per slice
    phases = np.zeros((step, C, *stride, rows, R), x.dtype)  # padding cells stay zero throughout
    runs = phases.reshape(step, C, *stride, rows * R)  # each phase as one flat run, a view
    cols = np.empty((step, G, C // G * KH * KW + 1, H_out * R), x.dtype)  # (step, G, Cg*KH*KW + 1, H_out*R)
    cols[:, :, -1] = 1
    taps = cols[:, :, :-1].reshape(step, G, C // G, KH, KW, H_out * R)  # a view, ones rows skipped
    parts = list(_phase_parts((H, W), pads, stride))
    tap_runs = list(_tap_runs(kernel, stride, dilation, R, H_out))
    for n in slices:
        m = n.stop - n.start
        for a, b, x_cells, phase_cells in parts:
            phases[:m, :, a, b][phase_cells] = x[n][x_cells]
        for u, v, a, b, run in tap_runs:
            taps[:m, :, :, u, v] = runs[:m, :, a, b, run].reshape(m, G, C // G, H_out * R)
        yield n, cols[:m].reshape(m, G * (C // G * KH * KW + 1), H_out * R)


def col2im(dcols: np.ndarray, dx: np.ndarray, pads: Pads, kernel: tuple[int, int],
           stride: tuple[int, int], H_out: int, dilation: tuple[int, int] = (1, 1)) -> None:
    """The adjoint of `im2col_slices`: sum the column gradients dcols (n, C*KH*KW, H_out*R) back
    onto the cells they were copied from, and write the result for x's cells into dx (n, C, H, W).

    Each tap's column adds onto one contiguous run of a stride phase of xpad. The junk positions
    of dcols must be zero: their runs wrap onto the next row.
    """
    n, C, H, W = dx.shape
    KH, KW = kernel
    rows, R = phase_grid((H, W), pads, kernel, stride, dilation, H_out)
    phases = np.zeros((n, C, *stride, rows * R), dcols.dtype)  # (n, C, sh, sw, rows*R)
    taps = dcols.reshape(n, C, KH, KW, H_out * R)  # (n, C, KH, KW, H_out*R)
    for u, v, a, b, run in _tap_runs(kernel, stride, dilation, R, H_out):
        phases[:, :, a, b, run] += taps[:, :, u, v]  # += : overlapping windows share cells
    phases = phases.reshape(n, C, *stride, rows, R)  # (n, C, sh, sw, rows, R)
    for a, b, x_cells, phase_cells in _phase_parts((H, W), pads, stride):
        dx[x_cells] = phases[:, :, a, b][phase_cells]  # the padding's cells are dropped
