"""Give freed heap memory back to the operating system during inference.

glibc keeps the memory of freed tensors in its heap once its mmap threshold
has risen (it does after the first large free), and padded batches of ever
new shapes fragment that heap: the RSS of a long `nlp.pipe` creeps up by
a fifth before it levels off. `malloc_trim` returns the free pages, but the
next batch then faults them in again (3.5% slower if done after every batch),
so it runs only once the RSS has grown by `TRIM_SLACK_MB` since the last trim.
"""
import ctypes
import ctypes.util
import os
import sys
from typing import Callable, Optional


def _find_malloc_trim() -> Optional[Callable[[int], int]]:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim  # glibc only; musl has none
    except (OSError, AttributeError):
        return None


_MALLOC_TRIM = _find_malloc_trim()
TRIM_SLACK_MB = 32
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_rss_after_trim = 0.0


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE_SIZE / 2**20


def release_freed_memory() -> None:
    """Return free heap pages to the OS (glibc) when the RSS has grown by
    TRIM_SLACK_MB since the last time; a no-op elsewhere."""
    global _rss_after_trim
    if _MALLOC_TRIM is None:
        return
    if _rss_mb() > _rss_after_trim + TRIM_SLACK_MB:
        _MALLOC_TRIM(0)
        _rss_after_trim = _rss_mb()
