# Worked examples from the conv_strided_dilated statement (README.md), small enough to check by hand.
#
# In the notebook this cell runs after your solution cell, which defines the two functions. As a script,
# `python exercises/conv_strided_dilated/example.py` imports them from the file
# `conv_strided_dilated.py` next to it.

import numpy as np
from conv_strided_dilated import conv2d, conv2d_backward


def show_example(label, compute, expected):
    """Print your result next to the value the README states, and whether they agree."""
    try:
        got = compute()
    except NotImplementedError as exc:
        print(f"{label}: not implemented yet ({exc})")
        return
    agree = np.shape(got) == np.shape(expected) and bool(np.allclose(got, expected))
    print(f"{label}: {'agrees with the README' if agree else 'DOES NOT AGREE with the README'}")
    print(f"    yours:  {np.asarray(got).tolist()}")
    print(f"    README: {expected}")


# x = arange(25) as a (1, 1, 5, 5) array, w = [[1, 2], [3, 4]] as (1, 1, 2, 2).
x = np.arange(25.0).reshape(1, 1, 5, 5)
w = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
show_example("dense", lambda: conv2d(x, w)[0, 0],
             [[41, 51, 61, 71], [91, 101, 111, 121], [141, 151, 161, 171], [191, 201, 211, 221]])
show_example("dilation=2", lambda: conv2d(x, w, dilation=2)[0, 0],
             [[82, 92, 102], [132, 142, 152], [182, 192, 202]])
show_example("dilation=2, stride=2", lambda: conv2d(x, w, dilation=2, stride=2)[0, 0],
             [[82, 102], [182, 202]])
show_example("dilation=(2, 1), stride=(1, 2)", lambda: conv2d(x, w, dilation=(2, 1), stride=(1, 2))[0, 0],
             [[76, 96], [126, 146], [176, 196]])

# "same" with an even kernel: the extra padding goes below and to the right.
x3 = np.arange(9.0).reshape(1, 1, 3, 3)
show_example('padding="same"', lambda: conv2d(x3, w, padding="same")[0, 0],
             [[27, 37, 17], [57, 67, 29], [20, 23, 8]])

# Groups: channel 0 = arange(9), channel 1 = ones; filters [w0, 2*w0, w1, 2*w1] with groups=2.
xg = np.stack([np.arange(9.0).reshape(3, 3), np.ones((3, 3))])[None]
w0, w1 = np.array([[1.0, 0.0], [0.0, 1.0]]), np.ones((2, 2))
wg = np.stack([w0, 2 * w0, w1, 2 * w1])[:, None]
show_example("groups=2: out[0, :, 0, 0]", lambda: conv2d(xg, wg, groups=2)[0, :, 0, 0], [4, 8, 4, 8])

# Backward with holes: x = ones((6, 6)), stride=3, dilation=2, dout = ones((2, 2)).
x6 = np.ones((1, 1, 6, 6))
show_example("backward holes: dx",
             lambda: conv2d_backward(np.ones((1, 1, 2, 2)), x6, w, stride=3, dilation=2)[0][0, 0],
             [[1, 0, 2, 1, 0, 2], [0, 0, 0, 0, 0, 0], [3, 0, 4, 3, 0, 4],
              [1, 0, 2, 1, 0, 2], [0, 0, 0, 0, 0, 0], [3, 0, 4, 3, 0, 4]])
