"""The Complexity page in headless Chromium: curves at first paint, the three new sections
measured live, the view from the URL, and the server's peak memory during the default sweep."""

from __future__ import annotations

import pytest

from tests.browser.harness import NO_COMPILE_CACHE, Server, wait_idle
from tests.browser.test_pages import assert_clean, visible_charts

pytestmark = pytest.mark.browser
PEAK_LIMIT_MB = 690  # Streamlit Community Cloud's smallest tier


@pytest.fixture(scope="module")
def server():
    """A server of this module's own: its peak memory is measured during the default sweep."""
    s = Server(env=NO_COMPILE_CACHE)
    yield s
    s.stop()


def open_view(page, server, query: str = "") -> None:
    page.goto(f"{server.url}/complexity{query}")
    wait_idle(page, 300)
    assert_clean(page)


def test_first_paint_has_curves_and_the_default_sweep_stays_out_of_the_server(server, page):
    open_view(page, server)
    page.locator("[data-testid='stPlotlyChart'] .js-plotly-plot").first.wait_for()
    assert visible_charts(page) == 3
    assert "Measured once for this server" in page.inner_text("body")
    assert "upper half" in page.inner_text("body")
    page.get_by_role("button", name="Run the sweep").click()
    page.wait_for_timeout(1000)
    wait_idle(page, 600)
    assert_clean(page)
    assert "Measured once for this server" not in page.inner_text("body")
    peak = server.rss_mb("VmHWM")
    print(f"\nserver peak memory (VmHWM) after the default sweep: {peak:.0f} MB")
    assert peak < PEAK_LIMIT_MB


@pytest.mark.parametrize(
    "view,button,charts",
    [("Sliding window", "Measure window vs full", 1),
     ("Prefill vs decode", "Measure prefill and decode", 2),
     ("Past one device", "Split over 1, 2, 4, 8 devices", 2)],
)  # fmt: skip
def test_each_section_measures_live(server, page, view, button, charts):
    query = "?view=" + view.replace(" ", "+") + "&window=64&ring_n=1024"
    open_view(page, server, query)
    assert page.get_by_role("tab", name=view).get_attribute("aria-selected") == "true"
    page.get_by_role("button", name=button).click()
    chart = page.locator("[data-testid='stPlotlyChart'] .js-plotly-plot")
    chart.nth(charts - 1).wait_for(timeout=300_000)
    wait_idle(page, 300)
    assert_clean(page)
    assert visible_charts(page) == charts
    assert page.locator("[data-testid='stAlertContentError']").count() == 0


def test_a_view_round_trips_through_its_url(server, page, browser):
    open_view(page, server, "?heads=4&n=64,256&window=128&view=Sliding+window")
    page.get_by_role("tab", name="Sweep").click()
    wait_idle(page)
    url = page.url
    assert "heads=4" in url and "n=64%2C256" in url.replace(",", "%2C")
    assert "window=128" in url
    fresh = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    try:
        fresh.goto(url)
        fresh.get_by_text("Heads N").wait_for(timeout=300_000)
        wait_idle(fresh, 300)
        assert fresh.get_by_role("tab", name="Sweep").get_attribute("aria-selected") == "true"
        assert fresh.get_by_role("slider", name="Heads N").get_attribute("aria-valuetext") == "4"
        assert (
            fresh.get_by_role("slider", name="Head dim H").get_attribute("aria-valuetext") == "64"
        )
        assert "64\n256\n\nMethods" in fresh.inner_text("body")  # the two chosen lengths
    finally:
        fresh.context.close()


def test_garbage_url_falls_back_with_notices(server, page):
    open_view(page, server, "?heads=%3Cb%3E&view=nope&n=1,2,3&budget=1e99&zz=1")
    body = page.inner_text("body")
    for key in ("heads", "view", "n", "budget"):
        assert f"“{key}”" in body
    assert "<b>" not in body and "1e99" not in body  # values are never echoed
    assert_clean(page)
