# Worked examples from the pooling statement (README.md), small enough to check by hand.
#
# In the notebook this cell runs after your solution cell, which defines the four functions. As a script,
# `python exercises/pooling/example.py` imports them from the file `pooling.py` next to it.

import numpy as np
from pooling import avg_pool_backward, avg_pool_forward, max_pool_backward, max_pool_forward


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


# Max pooling with ties, 2x2 windows, stride None (= kernel size), as a (1, 1, 4, 4) array.
x = np.array([[1.0, 3, 2, 1], [3, 0, 1, 2], [0, 2, 5, 5], [1, 1, 5, 4]]).reshape(1, 1, 4, 4)
dout = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
show_example("max pool", lambda: max_pool_forward(x, 2)[0, 0], [[3, 2], [2, 5]])
show_example("max pool backward (first maximum wins)", lambda: max_pool_backward(dout, x, 2)[0, 0],
             [[0, 1, 2, 0], [0, 0, 0, 0], [0, 3, 4, 0], [0, 0, 0, 0]])

# Max pooling pads with -inf.
xn = np.array([[-1.0, -2.0], [-3.0, -4.0]]).reshape(1, 1, 2, 2)
show_example("max pool, padding=1", lambda: max_pool_forward(xn, 2, stride=1, padding=1)[0, 0],
             [[-1, -1, -2], [-1, -1, -2], [-3, -3, -4]])

# Average pooling and its backward pass.
xa = np.arange(16.0).reshape(1, 1, 4, 4)
show_example("avg pool", lambda: avg_pool_forward(xa, 2)[0, 0], [[2.5, 4.5], [10.5, 12.5]])
show_example("avg pool backward", lambda: avg_pool_backward(dout, (1, 1, 4, 4), 2)[0, 0],
             [[0.25, 0.25, 0.5, 0.5], [0.25, 0.25, 0.5, 0.5], [0.75, 0.75, 1, 1], [0.75, 0.75, 1, 1]])

# The divisor at the border: stride 2, padding 1, with and without count_include_pad.
x3 = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
show_example("avg pool, count_include_pad=True", lambda: avg_pool_forward(x3, 2, stride=2, padding=1)[0, 0],
             [[0.25, 1.25], [2.75, 7]])
show_example("avg pool, count_include_pad=False",
             lambda: avg_pool_forward(x3, 2, stride=2, padding=1, count_include_pad=False)[0, 0],
             [[1, 2.5], [5.5, 7]])
show_example("its backward, dout = ones",
             lambda: avg_pool_backward(np.ones((1, 1, 2, 2)), (1, 1, 3, 3), 2, stride=2, padding=1,
                                       count_include_pad=False)[0, 0],
             [[1, 0.5, 0.5], [0.5, 0.25, 0.25], [0.5, 0.25, 0.25]])
