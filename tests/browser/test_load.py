"""A small load test: concurrent visitors on one server, no errors, bounded memory."""

import pytest

from tests.browser.harness import Server
from tests.load import run_load

pytestmark = pytest.mark.browser

MEMORY_LIMIT_MB = 690  # Streamlit Community Cloud's smallest tier


def test_concurrent_visitors_get_no_errors_and_memory_stays_bounded():
    server = Server()
    try:
        report = run_load(3, server, sweep=False)
    finally:
        server.stop()
    print(
        f"\nload: {len(report.page_seconds)} page loads, errors {len(report.errors)}, "
        f"p50 {report.percentile(50):.2f} s, p95 {report.percentile(95):.2f} s, "
        f"server memory {report.rss_mb:.0f} MB (peak {report.peak_mb:.0f} MB)"
    )
    assert report.errors == []
    assert len(report.page_seconds) == 3 * 6 + 5 * 3  # visitor 0 also opens every bucket
    # The server's high-water mark (VmHWM) while three visitors use every length bucket at
    # once, and its resident memory once they have left, stay inside the smallest Cloud tier.
    assert report.peak_mb < MEMORY_LIMIT_MB
    assert report.rss_mb < MEMORY_LIMIT_MB
