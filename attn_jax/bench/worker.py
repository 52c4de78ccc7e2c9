"""Measurements in a short-lived worker process: `python -m attn_jax.bench.worker`.

A sweep compiles one-off shapes and allocates large buffers; run in the server's own process
that memory stays with the server (glibc and XLA keep much of it). In a worker it leaves with
the process, the time budget becomes a hard kill, and the worker can start JAX with its own
flags (e.g. forced CPU host devices for ring attention) without touching the server's JAX.

Protocol: the parent writes {"task": name, "params": {...}} as JSON to the worker's stdin;
the worker writes JSON lines to stdout: {"progress": fraction, "text": ..., "data": ...} while
it runs ("data" optional: a partial result, e.g. a training log's newest entry), then
{"result": ...} or {"error": exception class name, "message": ...}.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# name -> "module:function"; the function takes the params as keywords and a `progress`
# callback, and returns plain JSON values.
TASKS = {
    "sweep": "attn_jax.bench.sweep:sweep_task",
    "window": "attn_jax.bench.window:window_task",
    "decode": "attn_jax.bench.decode:decode_task",
    "ring": "attn_jax.bench.ring:ring_task",
    "copy_model": "attn_jax.lessons.induction_live:train_task",
}
# passed through to the worker: it must not grab accelerator memory the server may need
WORKER_ENV = {"XLA_PYTHON_CLIENT_PREALLOCATE": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
LOCK = threading.Lock()  # one exclusive measurement at a time per server process
CACHE_DIR = Path(tempfile.gettempdir()) / "attn_jax_worker_xla_cache"


class WorkerBusy(RuntimeError):
    """Another exclusive measurement is running in this server process."""


class WorkerTimeout(TimeoutError):
    """The worker ran past its time limit and was killed."""


class WorkerError(RuntimeError):
    """The worker failed; `kind` is the exception class name it reported."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def forced_host_devices_env(count: int) -> dict[str, str]:
    """XLA_FLAGS for `count` CPU devices, kept with any flags already set."""
    flags = os.environ.get("XLA_FLAGS", "")
    flags = " ".join(f for f in flags.split() if "force_host_platform_device_count" not in f)
    return {"XLA_FLAGS": f"{flags} --xla_force_host_platform_device_count={count}".strip()}


def _start(env: dict[str, str] | None) -> subprocess.Popen:
    full_env = {**os.environ, **WORKER_ENV, **(env or {})}
    full_env["PYTHONPATH"] = str(ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    return subprocess.Popen(
        [sys.executable, "-m", "attn_jax.bench.worker"], cwd=ROOT, env=full_env,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        stderr=tempfile.TemporaryFile(mode="w+"),  # a file: a chatty worker never blocks
    )  # fmt: skip


def _read(proc, progress, on_data, deadline):
    """The worker's final message; progress lines go to `progress` (their data to `on_data`).
    Kills on the deadline."""
    timer = threading.Timer(max(0.0, deadline - time.monotonic()), proc.kill)
    timer.start()
    final = None
    try:
        for line in proc.stdout:
            msg = json.loads(line) if line.startswith("{") else {}
            if "progress" in msg and progress:
                progress(float(msg["progress"]), str(msg.get("text", "")))
            if msg.get("data") is not None and on_data:
                on_data(msg["data"])
            elif "result" in msg or "error" in msg:
                final = msg
        proc.wait()
    finally:
        timer.cancel()
    return final


def run_task(
    task: str,
    params: dict,
    *,
    timeout_s: float = 120.0,
    progress: Callable[[float, str], None] | None = None,
    on_data: Callable[[object], None] | None = None,
    env: dict[str, str] | None = None,
    exclusive: bool = True,
):
    """Run one task in a fresh worker process and return its result (plain JSON values).

    Args:
      task: a name in TASKS; params: its keyword arguments (JSON values).
      timeout_s: hard limit: the worker is killed after this many seconds.
      progress: called as progress(fraction, text) while the worker reports.
      on_data: called with each progress line's "data" (partial results), if any.
      env: extra environment for the worker (e.g. `forced_host_devices_env(8)`).
      exclusive: hold this process's LOCK (one big measurement at a time per server).

    Raises:
      WorkerBusy, WorkerTimeout, WorkerError (with the worker's exception kind and message).
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}")
    if exclusive and not LOCK.acquire(blocking=False):
        raise WorkerBusy("Another measurement is running on this server; try again in a moment.")
    try:
        deadline = time.monotonic() + timeout_s
        proc = _start(env)
        proc.stdin.write(json.dumps({"task": task, "params": params}))
        proc.stdin.close()
        final = _read(proc, progress, on_data, deadline)
        if final is None and time.monotonic() >= deadline:
            raise WorkerTimeout(f"the measurement ran past {timeout_s:.0f} s and was stopped")
        if final is None:
            proc.stderr.seek(0)
            tail = proc.stderr.read()[-500:]
            raise WorkerError("Crash", f"the worker exited with {proc.returncode}: {tail}")
        if "error" in final:
            raise WorkerError(final["error"], final.get("message", ""))
        return final["result"]
    finally:
        if exclusive:
            LOCK.release()


def _emit(msg: dict) -> None:
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def _compile_cache() -> None:
    """Keep compiled programs on disk: every worker is a fresh process, and the same shapes
    come back (the first-paint sweep, a visitor's repeat), so later workers skip compiling."""
    import jax

    jax.config.update("jax_compilation_cache_dir", str(CACHE_DIR))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def main() -> int:
    """Worker side: read one request from stdin, run it, write JSON lines to stdout."""
    import importlib

    request = json.loads(sys.stdin.read())
    if os.environ.get("ATTN_WORKER_CACHE", "1") != "0":
        _compile_cache()
    module, func = TASKS[request["task"]].split(":")
    fn = getattr(importlib.import_module(module), func)

    def progress(fraction: float, text: str, data=None) -> None:
        _emit({"progress": fraction, "text": text, **({} if data is None else {"data": data})})

    try:
        result = fn(**request["params"], progress=progress)
    except Exception as exc:  # reported to the parent, which raises WorkerError
        _emit({"error": type(exc).__name__, "message": str(exc)})
        return 1
    _emit({"result": result})
    return 0


if __name__ == "__main__":
    sys.exit(main())
