"""Cap the C allocator's per-thread arenas while roost runs many threads.

glibc gives each thread that allocates its own arena (up to eight per CPU) and keeps
freed memory there. An install runs a main thread, index look-ups, downloads and
unpacking side by side, and each arena holds its own high-water mark: measured on
jupyter (97 wheels), a cold install peaked at 68 MiB with glibc's default and at 56
MiB with two arenas, in the same time. Python's small objects do not use these arenas
(pymalloc), only buffers such as downloaded and decompressed chunks do, so two arenas
see little lock contention.
"""

from __future__ import annotations

import sys

#: glibc's ``M_ARENA_MAX`` parameter of ``mallopt(3)``.
_M_ARENA_MAX = -8
ARENAS = 2


def limit_malloc_arenas(count: int = ARENAS) -> bool:
    """Ask glibc for at most *count* arenas; call before starting threads.

    Does nothing (and returns False) off Linux or where the C library has no
    ``mallopt``; musl's accepts the call and ignores it. ``MALLOC_ARENA_MAX`` in the
    environment, when set, is the user's choice and wins.
    """
    import os

    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, count))
