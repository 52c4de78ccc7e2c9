"""A small load test: concurrent visitors on one server, no errors, bounded memory."""

import pytest

from tests.browser.harness import NO_COMPILE_CACHE, Server
from tests.load import OTHER_MODELS, memory_line, run_load

pytestmark = [pytest.mark.browser, pytest.mark.memory]

MEMORY_LIMIT_MB = 690  # Streamlit Community Cloud's smallest tier


def _line(name: str, report) -> str:
    return (
        f"\n{name}: {len(report.page_seconds)} page loads, errors {len(report.errors)}, "
        f"p50 {report.percentile(50):.2f} s, p95 {report.percentile(95):.2f} s, "
        f"server memory: {memory_line(report)}"
    )


def test_concurrent_visitors_get_no_errors_and_memory_stays_bounded():
    server = Server(env=NO_COMPILE_CACHE)
    try:
        # one visitor: every page, every bucket, and every shipped model's views
        alone = run_load(1, server, sweep=False, all_models=True)
        print(_line("one visitor", alone))
        # then three at once (the buckets are compiled and used already)
        together = run_load(3, server, sweep=False, every_bucket=False)
        print(_line("three visitors", together))
    finally:
        server.stop()
    assert alone.errors == [] and together.errors == []
    assert len(alone.page_seconds) == 6 + 5 * 3 + len(OTHER_MODELS)
    assert len(together.page_seconds) == 3 * 6
    # The server's high-water mark (VmHWM) after one visitor has used every length bucket on
    # every page, and its resident memory once three visitors at
    # once have left, stay inside the smallest Cloud tier. The peak with three at once is
    # printed above.
    assert alone.peak_mb < MEMORY_LIMIT_MB
    assert together.rss_mb < MEMORY_LIMIT_MB
