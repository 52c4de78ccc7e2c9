"""attn_jax.memory: the byte-bounded cache and the process-memory helpers."""

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from attn_jax.memory import (
    ByteBoundedCache,
    rss_mb,
    trim_heap,
    tune_malloc,
)


@dataclass(frozen=True)
class Result:
    name: str
    data: np.ndarray


def make(name, kib):
    return lambda: Result(name, np.zeros(kib * 256, np.float32))  # kib KiB of float32


def test_hits_return_the_same_object_and_arrays_become_read_only():
    cache = ByteBoundedCache(10 * 1024)
    first = cache.get("a", make("a", 4))
    assert cache.get("a", make("other", 4)) is first
    with pytest.raises(ValueError):
        first.data[0] = 1.0
    assert cache.nbytes == 4 * 1024 and len(cache) == 1


def test_least_recently_used_entries_leave_when_over_budget():
    cache = ByteBoundedCache(10 * 1024)
    cache.get("a", make("a", 4))
    cache.get("b", make("b", 4))
    cache.get("a", make("a", 4))  # a is now the most recent
    cache.get("c", make("c", 4))  # 12 KiB > 10 KiB: b goes
    calls = []
    cache.get("b", lambda: calls.append("b") or Result("b", np.zeros(1, np.float32)))
    assert calls == ["b"]
    assert cache.nbytes <= 10 * 1024


def test_a_value_larger_than_the_budget_is_returned_but_not_kept():
    cache = ByteBoundedCache(1024)
    big = cache.get("big", make("big", 8))
    assert big.data.nbytes == 8 * 1024
    assert len(cache) == 0 and cache.nbytes == 0


def test_concurrent_gets_are_consistent():
    cache = ByteBoundedCache(64 * 1024)
    errors = []

    def worker(i):
        try:
            for j in range(200):
                key = (i + j) % 20
                assert cache.get(key, make(str(key), 4)).name == str(key)
        except Exception as exc:  # collected, the assert below reports it
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert cache.nbytes <= 64 * 1024 and cache.nbytes == 4 * 1024 * len(cache)


def test_process_memory_helpers():
    assert rss_mb() > 10
    assert rss_mb(field="VmHWM") >= rss_mb() * 0.5
    assert np.isnan(rss_mb(pid=999_999_999))
    assert isinstance(trim_heap(), bool) and isinstance(tune_malloc(), bool)


def test_huge_pages_can_be_turned_off_for_a_process():
    import subprocess
    import sys

    # in a child process (the setting lasts for the process and those it starts), which then
    # starts one of its own
    code = (
        "import subprocess, sys; from attn_jax.memory import disable_huge_pages as d, "
        "huge_pages_disabled as h; ok = d(); child = subprocess.run([sys.executable, '-c', "
        "'from attn_jax.memory import huge_pages_disabled as h; print(h())'], "
        "capture_output=True, text=True).stdout.strip(); print(ok, h(), child)"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    ).stdout.split()
    assert out == (["True", "True", "True"] if sys.platform == "linux" else ["False"] * 3)


def test_relieve_memory_drops_jax_caches_over_the_limit_at_most_once_per_period():
    import jax
    import jax.numpy as jnp

    from ui.app import server

    double = jax.jit(lambda x: 2 * x)
    double(jnp.ones(3))
    assert double._cache_size() == 1
    server._last_drop[0] = float("-inf")
    assert server.relieve_memory(limit_mb=0.0, every_s=3600.0)  # over the limit: dropped
    assert double._cache_size() == 0
    double(jnp.ones(3))
    assert not server.relieve_memory(limit_mb=0.0, every_s=3600.0)  # too soon again
    assert double._cache_size() == 1
    assert not server.relieve_memory(limit_mb=1e9, every_s=0.0)  # under the limit
    assert float(double(jnp.ones(3))[0]) == 2.0


def test_the_page_cache_of_mapped_libraries_can_be_dropped():
    import sys

    from attn_jax.memory import drop_cached_libraries

    advised = drop_cached_libraries()
    assert isinstance(advised, int) and advised >= 0
    if sys.platform == "linux":  # numpy's and jaxlib's extension modules are mapped here
        assert advised > 0
    assert drop_cached_libraries(suffixes=(".no-such-suffix",)) == 0
