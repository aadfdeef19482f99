# Worked examples from the conv1d statement (README.md), small enough to check by hand.
#
# In the notebook this cell runs after your solution cell, which defines the two functions. As a script,
# `python exercises/conv1d/example.py` imports them from the file `conv1d.py` next to it.

import numpy as np
from conv1d import conv1d, convolve1d


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


# convolve1d flips the kernel (np.convolve); integer inputs give an integer output.
a, v = np.array([1, 2, 3, 4]), np.array([1, 2, 3])
show_example('convolve1d(a, v, "full")', lambda: convolve1d(a, v, "full"), [1, 4, 10, 16, 17, 12])
show_example('convolve1d(a, v, "same")', lambda: convolve1d(a, v, "same"), [4, 10, 16, 17])
show_example('convolve1d(a, v, "valid")', lambda: convolve1d(a, v, "valid"), [10, 16])

# conv1d is the layer: cross-correlation, no flip. x has shape (1, 1, 7), w has shape (1, 1, 3).
x = np.arange(7.0).reshape(1, 1, 7)
w = np.array([1.0, 2.0, 3.0]).reshape(1, 1, 3)
show_example("conv1d(x, w)", lambda: conv1d(x, w)[0, 0], [8, 14, 20, 26, 32])
show_example("conv1d(x, w, stride=2)", lambda: conv1d(x, w, stride=2)[0, 0], [8, 20, 32])
show_example("conv1d(x, w, stride=2, padding=1)", lambda: conv1d(x, w, stride=2, padding=1)[0, 0],
             [3, 14, 26, 17])
show_example("conv1d(x, w, dilation=2)", lambda: conv1d(x, w, dilation=2)[0, 0], [16, 22, 28])
show_example('conv1d(x, w, padding="same", dilation=2)',
             lambda: conv1d(x, w, padding="same", dilation=2)[0, 0], [6, 11, 16, 22, 28, 13, 16])
