"""Process memory helpers: resident set size, giving freed heap back to the OS, and a cache
bounded by bytes."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np


@functools.cache
def _libc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def trim_heap() -> bool:
    """Return freed heap memory to the OS (glibc's malloc_trim); False where unavailable.

    XLA's compiler and large temporary arrays leave freed but still-mapped pages behind;
    on a small server (Streamlit Community Cloud has ~690 MB) that matters.
    """
    libc = _libc()
    return bool(libc is not None and libc.malloc_trim(0))


def rss_mb(pid: int | str = "self", field: str = "VmRSS") -> float:
    """Resident memory of a process in MB (Linux /proc); NaN elsewhere.

    Args:
      field: "VmRSS" (now) or "VmHWM" (the peak so far).
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


# One model compile at a time in the process: compiling a length bucket briefly takes tens of
# MB, and visitors who arrive together would otherwise add those peaks up.
COMPILE_LOCK = threading.Lock()

_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # glibc's mallopt parameters (malloc.h)


def tune_malloc(mmap_threshold: int = 1 << 20, arena_max: int = 2) -> bool:
    """Make glibc give big buffers back to the OS as soon as they are freed.

    Arrays above `mmap_threshold` bytes get their own mapping (returned on free) instead of
    growing the heap, and at most `arena_max` heaps serve the server's threads. Measured on
    the Complexity sweep: the server keeps about half the memory it kept before.
    """
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(
        libc.mallopt(_M_ARENA_MAX, arena_max)
    )


_PR_SET_THP_DISABLE, _PR_GET_THP_DISABLE = 41, 42  # prctl options (linux/prctl.h)


def disable_huge_pages() -> bool:
    """Turn transparent huge pages off for this process (and the processes it starts).

    With THP on ("always" on many Linux hosts, and requested by some libraries with
    madvise), one touched byte makes a whole 2 MB page resident: a heap with freed holes, or
    a 1-2 MB array in a mapping of its own, then counts up to 2 MB per page against the
    server's memory. False where unavailable (not Linux, or an old kernel).
    """
    libc = _libc()
    if libc is None or not hasattr(libc, "prctl"):
        return False
    return libc.prctl(_PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0


def drop_cached_libraries(suffixes=(".so",), folder: str = "site-packages") -> int:  # .so, .so.N
    """Ask the kernel to drop the page cache of the shared libraries this process maps.

    A library that pip has just written sits whole in the page cache, and every page fault
    in it then maps its cached neighbours too (fault-around): the process's resident memory
    grows by file pages it never needed (measured: about 55 MB more after two pages on a
    fresh install). Pages already mapped stay; the rest come back from disk when used.
    Returns how many files were advised (0 where unavailable)."""
    import os

    if not hasattr(os, "posix_fadvise"):
        return 0
    try:
        lines = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return 0
    fields = (ln.split(maxsplit=5) for ln in lines)  # address perms offset dev inode path
    paths = {f[5] for f in fields if len(f) == 6}
    done = 0
    names = (p for p in paths if folder in p)
    for path in sorted(p for p in names if any(s in Path(p).name for s in suffixes)):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            done += 1
        except OSError:
            pass
        finally:
            os.close(fd)
    return done


def huge_pages_disabled() -> bool:
    """Whether `disable_huge_pages` is in effect for this process."""
    libc = _libc()
    return bool(
        libc is not None
        and hasattr(libc, "prctl")
        and libc.prctl(_PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1
    )


class ByteBoundedCache:
    """A thread-safe LRU cache whose entries together stay under `budget_bytes`.

    For results holding numpy arrays: their size is the sum of the arrays' nbytes. Cached
    arrays are made read-only, since every caller shares them.
    """

    def __init__(self, budget_bytes: int):
        self.budget_bytes = int(budget_bytes)
        self._items: OrderedDict = OrderedDict()  # key -> (value, nbytes)
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def _arrays(value) -> list[np.ndarray]:
        fields = vars(value).values() if hasattr(value, "__dict__") else [value]
        return [v for v in fields if isinstance(v, np.ndarray)]

    def get(self, key, compute):
        """The cached value for `key`, or compute() stored (when it fits the budget)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key][0]
        value = compute()  # outside the lock: other keys are served meanwhile
        arrays = self._arrays(value)
        for arr in arrays:
            arr.flags.writeable = False
        size = sum(arr.nbytes for arr in arrays)
        with self._lock:
            if size <= self.budget_bytes and key not in self._items:
                self._items[key] = (value, size)
                self._bytes += size
                while self._bytes > self.budget_bytes:
                    _, (_, old) = self._items.popitem(last=False)
                    self._bytes -= old
        return value

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._items.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)
