"""Give freed heap memory back to the operating system between pipeline stages.

A stage frees most of what it allocated, but glibc keeps freed heap pages mapped, so the
process's resident size (what a machine limit counts) keeps the high-water mark of every
stage on top of the data still alive. malloc_trim(0) returns the free pages; elsewhere
(no glibc) this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache


@cache
def _malloc_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


def release_free_memory() -> bool:
    """True when the C library released (or was asked to release) its free pages."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
