"""Start the app with `streamlit run` on a free port and drive it with headless Chromium."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from attn_jax.memory import rss_mb

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
APP_IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
# Something the script drew: before a fresh page's first run starts (on a busy server that can
# take seconds) the app also reads "notRunning", with nothing in it yet.
APP_DRAWN = "[data-testid='stMain'] [data-testid='stElementContainer']"
# For a server whose memory a test measures: no persistent compilation cache (tests/conftest.py
# turns one on for speed), so it compiles as a server in production does.
NO_COMPILE_CACHE = {"JAX_COMPILATION_CACHE_DIR": ""}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`streamlit run app.py` on localhost; `url` once /_stcore/health answers ok."""

    def __init__(self, timeout: float = 120.0, env: dict | None = None, app="app.py", args=()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [
            sys.executable, "-m", "streamlit", "run", str(app),
            "--server.port", str(self.port), "--server.address", "127.0.0.1",
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none", *args,
        ]  # fmt: skip
        self.log_path = Path(tempfile.gettempdir()) / f"attention-portal-{self.port}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )  # fmt: skip
        self._wait_healthy(timeout)

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r,
            ):
                if r.status == 200 and r.read().strip() == b"ok":
                    return
            time.sleep(0.3)
        self.stop()
        raise TimeoutError(f"streamlit did not become healthy in {timeout:.0f} s")

    def rss_mb(self, field: str = "VmRSS") -> float:
        """Resident memory of the server process in MB: "VmRSS" now, "VmHWM" the peak."""
        return rss_mb(self.proc.pid, field)

    def memory_detail(self) -> str:
        """Where the server's resident memory is (anonymous, file-backed, in huge pages) and
        the host's transparent-huge-page mode: what a memory figure depends on."""
        parts = [f"{f} {self.rss_mb(f):.0f} MB" for f in ("RssAnon", "RssFile")]
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.proc.pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("AnonHugePages:"):
                    parts.append(f"AnonHugePages {int(line.split()[1]) / 1024:.0f} MB")
        with contextlib.suppress(OSError):
            mode = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text().strip()
            parts.append(f"THP {mode}")
        with contextlib.suppress(OSError):
            info = Path("/proc/cpuinfo").read_text()
            model = next((ln.split(":", 1)[1].strip() for ln in info.splitlines()
                          if ln.startswith("model name")), "?")  # fmt: skip
            parts.append(f"CPU {model}{' (AVX-512)' if 'avx512f' in info else ''}")
        return ", ".join(parts)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def wait_idle(page, timeout_s: float = 120.0) -> None:
    """Wait until the script has drawn the page, finished and stays finished (it may start a
    moment later)."""
    deadline = time.monotonic() + timeout_s
    steady = 0
    while time.monotonic() < deadline:
        done = page.locator(APP_IDLE).count() and page.locator(APP_DRAWN).count()
        steady = steady + 1 if done else 0
        if steady >= 4:
            return
        page.wait_for_timeout(250)
    raise TimeoutError("the app's script did not finish")


# A page measured while another one had the focus must not be slowed down for being in the
# background: no timer throttling (Chromium's intensive wake-up throttling starts after five
# minutes in the background) and no lower renderer priority.
UNTHROTTLED = (
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--disable-features=IntensiveWakeUpThrottling",
)


def launch_browser(playwright, extra: tuple[str, ...] = ()):
    args = CHROMIUM_ARGS + list(extra)
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
