"""Starves its neighbours in the batch: at import, as many busy children as it can fork (up to
100), each in a session of its own, spinning while it holds its worker open for 10 s. Exec is
blocked, fork is not. Its own functions only raise, with how many children it got."""

import os
import time

STARTED = time.monotonic()
children = 0
for _ in range(100):
    try:
        if os.fork() == 0:
            os.setsid()  # a session of its own: not grouped with the worker by the scheduler
            while time.monotonic() < STARTED + 12:
                pass
            os._exit(0)
    except OSError:
        break
    children += 1
time.sleep(10)


def convolve1d(a, v, mode="full"):
    raise ValueError(f"{children} processes started")


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    raise ValueError(f"{children} processes started")
