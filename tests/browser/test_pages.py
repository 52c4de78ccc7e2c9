"""Every page as a visitor sees it, in a real headless Chromium."""

from __future__ import annotations

import pytest

from tests.browser.harness import Server, wait_idle

pytestmark = pytest.mark.browser

PAGES = ["Concept", "Math", "Multi-head", "Complexity"]
CHARTS_EXPECTED = {"Concept": 5, "Math": 3, "Multi-head": 2, "Complexity": 0}


def assert_clean(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0, page.inner_text("body")
    assert not page.js_errors, page.js_errors


def visible_charts(page) -> int:
    charts = page.locator("[data-testid='stPlotlyChart'] .js-plotly-plot")
    return sum(1 for i in range(charts.count()) if charts.nth(i).is_visible())


def test_every_page_from_the_sidebar(server, page):
    page.goto(server.url)
    wait_idle(page)
    assert_clean(page)
    assert "Self-Attention, live" in page.inner_text("h1")
    for name in PAGES:
        page.locator("[data-testid='stSidebarNav'] a", has_text=name).first.click()
        page.wait_for_url(f"**/{name}")
        wait_idle(page)
        assert_clean(page)
        if CHARTS_EXPECTED[name]:
            page.locator("[data-testid='stPlotlyChart'] .js-plotly-plot").first.wait_for()
        assert visible_charts(page) >= CHARTS_EXPECTED[name], name


def test_typing_a_sentence_updates_the_concept_page(server, page):
    page.goto(f"{server.url}/Concept")
    wait_idle(page)
    assert "Strongest link from it to animal" in page.inner_text("body")
    box = page.get_by_label("Sentence", exact=True)
    box.fill("The trophy didn't fit in the suitcase because it was too big.")
    box.press("Enter")
    page.get_by_text("Strongest link from it to trophy").wait_for(timeout=60_000)
    wait_idle(page)
    assert_clean(page)


def test_shared_link_cold_start_shows_the_full_sidebar(page):
    fresh = Server()  # a new server whose first request is a deep link
    try:
        page.goto(f"{fresh.url}/Multi-head")
        wait_idle(page)
        assert_clean(page)
        nav = page.locator("[data-testid='stSidebarNav'] a")
        labels = [nav.nth(i).inner_text() for i in range(nav.count())]
        for name in ["app", *PAGES]:
            assert any(name.lower() in label.lower() for label in labels), labels
        assert "8/30" in page.locator("[data-testid='stSidebar']").inner_text()
    finally:
        fresh.stop()
