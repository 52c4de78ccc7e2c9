"""Concurrent visitors: several headless Chromium sessions against one app server.

    python -m tests.load --sessions 8            (make load; make load SESSIONS="8 16 24")
    python -m tests.load --sessions 8 16 24      (one fresh server per count)

A class at once: each visitor opens every page with a text of its own length (visitor n gets
8, ~50 or ~200 words, n mod 3, so a third of them have a long paragraph) and then enters
another text of that length in Concept's "Sentence" box. The first visitor also opens the
sentence pages with every length bucket of the encoder (16 … 256 word pieces) and runs the
Complexity page's default sweep. Prints the errors (must be 0), per-page p50/p95 of the time
for a page to finish, and the server's memory as a host counts it: its peak (VmHWM, the
kernel's high-water mark of its resident set) with the anonymous and file-backed parts at
the highest sample, and its resident memory once the visitors have left.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from playwright.async_api import async_playwright

from tests.browser.harness import APP_IDLE, CHROMIUM, CHROMIUM_ARGS, Server

SETTLE_S = 6.0
# How long a page may take before the visit counts as an error: past the queue's own limit
# (ui.app.work_queue.WAIT_LIMIT_S, 300 s), since here two dozen browsers share the server's
# two cores and a visitor's place in the queue can be long; a page turned away by the queue
# is an error too.
WAIT_S = 420.0
PAGES = ["", "concept", "math", "multihead", "complexity"]
TEXT_PAGES = ["concept", "math", "multihead"]
# the other shipped models: the first visitor also opens these, so every model is loaded
OTHER_MODELS = [
    ("concept", "?source=decoder&llm=induction"),
    ("concept", "?source=llama&llm=window&copy=try"),
    ("math", "?source=llama"),
    ("multihead", "?source=llama&gqa_trained=1"),
]
# a class: visitor n's texts have CLASS_WORDS[n % 3] words (about 11, 64 and 256 pieces)
CLASS_WORDS = (8, 50, 200)
# word counts that land in the encoder's length buckets 16, 32, 64, 128 and 256
BUCKET_WORDS = (8, 24, 50, 110, 240)
PARAGRAPH = (
    "Self attention lets every token look at every other token and weigh how much each one "
    "matters to it, so a pronoun can find its noun and a verb its subject in a single step."
)


def text_of(n_words: int, shift: int = 0) -> str:
    """A text of n real words (another one for each shift: same length, new to the caches)."""
    words = PARAGRAPH.split()
    words = words[shift % len(words) :] + words[: shift % len(words)]
    return " ".join((words * (1 + n_words // len(words)))[:n_words]) + "."


def text_for_bucket(b: int) -> str:
    """A sentence of real words whose word pieces fall in bucket b (0 = 16 … 4 = 256)."""
    return text_of(BUCKET_WORDS[b])


@dataclass
class Report:
    page_seconds: list[float] = field(default_factory=list)
    by_page: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    rss_mb: float = float("nan")  # settled: a few seconds after the last visitor left
    peak_mb: float = float("nan")  # the server's high-water mark
    sampled: tuple[float, float, float] = (0.0, 0.0, 0.0)  # (RSS, anon, file) at the top
    memory_detail: str = ""  # anonymous / file-backed / huge pages, once the visitors left

    def add(self, page: str, seconds: float) -> None:
        self.page_seconds.append(seconds)
        self.by_page.setdefault(page or "home", []).append(seconds)

    def percentile(self, q: float, page: str | None = None) -> float:
        xs = self.page_seconds if page is None else self.by_page.get(page, [])
        if len(xs) < 2:
            return xs[0] if xs else float("nan")
        return statistics.quantiles(xs, n=100, method="inclusive")[int(q) - 1]


async def _wait_idle(page, timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    steady = 0
    while time.monotonic() < deadline:
        steady = steady + 1 if await page.locator(APP_IDLE).count() else 0
        if steady >= 4:
            return
        await page.wait_for_timeout(250)
    raise TimeoutError("script did not finish")


async def _check(page, where: str, report: Report) -> None:
    if await page.locator("[data-testid='stException']").count():
        report.errors.append(f"{where}: exception shown")
    if await page.get_by_text("The server is too busy right now").count():
        report.errors.append(f"{where}: turned away by the queue")


async def _sweep(page, url: str, report: Report) -> None:
    """Run the Complexity page's default sweep with the shortest time budget."""
    await page.goto(f"{url}/complexity")
    await _wait_idle(page)
    budget = page.locator("[data-testid='stSlider']", has_text="Time budget")
    await budget.get_by_role("slider").press("Home")
    await _wait_idle(page)
    await page.get_by_role("button", name="Run the sweep").click()
    await page.wait_for_timeout(500)
    await _wait_idle(page, timeout_s=300)
    await _check(page, "sweep", report)


async def _open(page, url: str, name: str, report: Report, where: str, query: str = ""):
    start = time.monotonic()
    await page.goto(f"{url}/{name}{query}")
    await _wait_idle(page)
    report.add(name, time.monotonic() - start)
    await _check(page, where, report)


async def _visitor(
    browser,
    url: str,
    n: int,
    report: Report,
    sweep: bool,
    every_bucket: bool,
    all_models: bool = False,
) -> None:
    context = await browser.new_context(viewport={"width": 1300, "height": 900})
    context.set_default_timeout(WAIT_S * 1000)  # a cold server loads the models first
    page = await context.new_page()
    page.on("pageerror", lambda exc: report.errors.append(f"visitor {n}: js error {exc}"))
    n_words = CLASS_WORDS[n % len(CLASS_WORDS)]
    own = "?" + urllib.parse.urlencode({"text": text_of(n_words, shift=n)})
    try:
        for name in PAGES:
            query = own if name in TEXT_PAGES else ""
            await _open(page, url, name, report, f"visitor {n} /{name}", query)
        if n == 0 and every_bucket:  # one visitor uses every length bucket on every page
            for b in range(len(BUCKET_WORDS)):
                query = "?" + urllib.parse.urlencode({"text": text_for_bucket(b)})
                for name in TEXT_PAGES:
                    await _open(page, url, name, report, f"bucket {b} /{name}", query)
            if all_models:  # ... and every shipped model
                for name, query in OTHER_MODELS:
                    await _open(page, url, name, report, f"/{name}{query}", query)
        await page.goto(f"{url}/concept")
        await _wait_idle(page)
        box = page.get_by_label("Sentence", exact=True)
        await box.fill(text_of(n_words, shift=n + 7))  # a text of its own length, typed
        start = time.monotonic()
        await box.press("Enter")
        await page.wait_for_timeout(300)
        await _wait_idle(page)
        report.add("new sentence", time.monotonic() - start)
        await _check(page, f"visitor {n} new sentence", report)
        if sweep and n == 0:
            await _sweep(page, url, report)
    except Exception as exc:  # a failed visit is an error in the report, not a crash
        report.errors.append(f"visitor {n}: {type(exc).__name__}: {exc}")
    finally:
        await context.close()


async def _sample(server: Server, report: Report, stop: asyncio.Event) -> None:
    """The server's resident memory every 0.2 s: keep (RSS, anon, file) at the highest."""
    while not stop.is_set():
        with contextlib.suppress(OSError, ValueError):
            now = tuple(server.rss_mb(f) for f in ("VmRSS", "RssAnon", "RssFile"))
            if now[0] > report.sampled[0]:
                report.sampled = now
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.2)


async def _run(
    server: Server, sessions: int, sweep: bool, every_bucket: bool, all_models: bool = False
) -> Report:
    report = Report()
    stop = asyncio.Event()
    sampler = asyncio.create_task(_sample(server, report, stop))
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        await asyncio.gather(
            *(
                _visitor(browser, server.url, n, report, sweep, every_bucket, all_models)
                for n in range(sessions)
            )
        )
        await browser.close()
    stop.set()
    await sampler
    await asyncio.sleep(SETTLE_S)  # let the server's heap trimmer run once
    report.rss_mb = server.rss_mb()
    report.peak_mb = server.rss_mb("VmHWM")
    report.memory_detail = server.memory_detail()
    return report


def run_load(
    sessions: int,
    server: Server | None = None,
    sweep: bool = True,
    every_bucket: bool = True,
    all_models: bool = False,
) -> Report:
    """Run `sessions` concurrent visitors against `server` (or a fresh one); the first one
    also opens every sentence page with every length bucket when `every_bucket` is set (and
    every shipped model's views with `all_models`), and runs a Complexity sweep when `sweep`
    is set."""
    own = server is None
    server = server or Server()
    try:
        # A thread of its own: the caller may already run an event loop (sync playwright).
        with ThreadPoolExecutor(1) as pool:
            run = _run(server, sessions, sweep, every_bucket, all_models)
            return pool.submit(asyncio.run, run).result()
    finally:
        if own:
            server.stop()


def memory_line(report: Report) -> str:
    """The server's memory as a host counts it, in one line."""
    rss, anon, file = report.sampled
    return (
        f"peak (VmHWM) {report.peak_mb:.0f} MB; at the highest sample {rss:.0f} MB = RssAnon "
        f"{anon:.0f} + RssFile {file:.0f} MB; resident once the visitors left "
        f"{report.rss_mb:.0f} MB (limit 690 MB); {report.memory_detail}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--sessions", type=int, nargs="+", default=[8], help="visitors at once (several: "
        "one fresh server for each count)",
    )  # fmt: skip
    parser.add_argument("--no-sweep", action="store_true", help="skip the Complexity sweep")
    parser.add_argument("--all-models", action="store_true", help="the first visitor also "
                        "opens every shipped model's views")  # fmt: skip
    args = parser.parse_args()
    summary, failed = [], False
    for sessions in args.sessions:
        t0 = time.monotonic()
        report = run_load(sessions, sweep=not args.no_sweep, all_models=args.all_models)
        failed |= bool(report.errors)
        print(f"\nsessions: {sessions}, page loads: {len(report.page_seconds)}")
        print(f"errors: {len(report.errors)}")
        for err in report.errors:
            print(f"  {err}")
        print("| page | loads | p50 s | p95 s |\n|---|---|---|---|")
        for name, xs in report.by_page.items():
            p50, p95 = report.percentile(50, name), report.percentile(95, name)
            print(f"| {name} | {len(xs)} | {p50:.2f} | {p95:.2f} |")
        print(f"all pages: p50 {report.percentile(50):.2f} s, p95 {report.percentile(95):.2f} s")
        print(f"server memory: {memory_line(report)}")
        print(f"wall time: {time.monotonic() - t0:.1f} s")
        _, anon, file = report.sampled
        summary.append(
            f"| {sessions} | {len(report.errors)} | {report.peak_mb:.0f} MB | {anon:.0f} MB | "
            f"{file:.0f} MB | {report.rss_mb:.0f} MB | {report.percentile(50):.1f} s | "
            f"{report.percentile(95):.1f} s |"
        )
    print(
        "\n| visitors | errors | peak (VmHWM) | RssAnon at top | RssFile at top | "
        "resident after | page p50 | page p95 |\n|---|---|---|---|---|---|---|---|"
    )
    print("\n".join(summary))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
