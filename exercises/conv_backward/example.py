# Worked examples from the conv_backward statement (README.md), small enough to check by hand.
#
# In the notebook this cell runs after your solution cell, which defines `conv_backward`. As a script,
# `python exercises/conv_backward/example.py` imports it from the file `conv_backward.py` next to it.

import numpy as np
from conv_backward import conv_backward


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


# The forward pass of the README: X (1, 1, 3, 3), w (1, 1, 2, 2), stride 1, no padding.
x = np.arange(9.0).reshape(1, 1, 3, 3)
w = np.array([[0.0, 1.0], [2.0, 3.0]]).reshape(1, 1, 2, 2)
dout = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
show_example("dx", lambda: conv_backward(dout, x, w)[0][0, 0], [[0, 1, 2], [2, 10, 10], [6, 17, 12]])
show_example("dw", lambda: conv_backward(dout, x, w)[1][0, 0], [[27, 37], [57, 67]])
show_example("db", lambda: conv_backward(dout, x, w)[2], [10])

# Stride 2 leaves gaps: row 4 and column 4 of x are never read, so their gradient is 0.
x5 = np.arange(25.0).reshape(1, 1, 5, 5)
w2 = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
ones = np.ones((1, 1, 2, 2))
show_example("stride 2: dx", lambda: conv_backward(ones, x5, w2, stride=2)[0][0, 0],
             [[1, 2, 1, 2, 0], [3, 4, 3, 4, 0], [1, 2, 1, 2, 0], [3, 4, 3, 4, 0], [0, 0, 0, 0, 0]])
show_example("stride 2: dw", lambda: conv_backward(ones, x5, w2, stride=2)[1][0, 0], [[24, 28], [44, 48]])
show_example("stride 2: db", lambda: conv_backward(ones, x5, w2, stride=2)[2], [4])
