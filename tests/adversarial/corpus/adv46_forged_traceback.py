"""Every call forges its worker's error reply (850 KB of message and traceback) and leaves: the
grader used to keep all of it in every result file."""

import numpy as np


def convolve1d(a, v, mode="full"):
    return conv1d(a, v)


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1):
    _forge({"ok": False, "type": "Forged", "mro": ["Forged"], "message": "m" * 450_000,
            "traceback": "t\n" * 140_000})


def _forge(header):
    """Write a reply frame straight onto the worker's protocol pipe, then leave."""
    import fcntl
    import json
    import os
    import struct

    head = json.dumps(header).encode()
    for fd in range(3, 64):
        try:
            writable = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY
            kind = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if writable and kind.startswith(("pipe:", "socket:")) and fd != 2:
            os.write(fd, struct.pack(">II", len(head), 0) + head)
    os._exit(0)
