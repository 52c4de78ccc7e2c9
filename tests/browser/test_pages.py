"""Every page as a visitor sees it, in a real headless Chromium."""

from __future__ import annotations

import time

import pytest

from tests.browser.harness import Server, wait_idle

pytestmark = pytest.mark.browser

# sidebar label -> URL path, in course order
PAGES = {
    "Concept": "concept",
    "Math": "math",
    "Multi-head": "multihead",
    "Complexity": "complexity",
}
CHARTS_EXPECTED = {"Concept": 5, "Math": 3, "Multi-head": 8, "Complexity": 3}
NAV_LINK = "[data-testid='stSidebar'] [data-testid='stPageLink-NavLink']"


def sidebar_labels(page) -> list[str]:
    links = page.locator(NAV_LINK)
    # the Material icon is a ligature: its name is text too, on the first line
    return [links.nth(i).inner_text().strip().split("\n")[-1] for i in range(links.count())]


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
    for name, path in PAGES.items():
        page.locator(NAV_LINK, has_text=name).first.click()
        page.wait_for_url(f"**/{path}*")
        wait_idle(page)
        assert_clean(page)
        # Plotly draws the charts after the script has finished, one after another
        deadline = time.monotonic() + 60
        while visible_charts(page) < CHARTS_EXPECTED[name] and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        assert visible_charts(page) >= CHARTS_EXPECTED[name], name


def test_typing_a_sentence_updates_the_concept_page(server, page):
    page.goto(f"{server.url}/concept")
    wait_idle(page)
    assert "Strongest link from it to animal" in page.inner_text("body")
    box = page.get_by_label("Sentence", exact=True)
    box.fill("The trophy didn't fit in the suitcase because it was too big.")
    box.press("Enter")
    page.get_by_text("Strongest link from it to trophy").wait_for(timeout=60_000)
    wait_idle(page)
    assert_clean(page)


@pytest.mark.parametrize("path", list(PAGES.values()))
def test_cold_start_deep_link_shows_the_sidebar_in_course_order(page, path):
    fresh = Server()  # a new server whose first request is a deep link
    try:
        page.goto(f"{fresh.url}/{path}")
        wait_idle(page)
        assert_clean(page)
        assert page.locator("[data-testid='stSidebarNav']").count() == 0  # built-in list hidden
        assert sidebar_labels(page) == ["Home", *PAGES]
        icons = page.locator(f"{NAV_LINK} [data-testid='stIconMaterial']")
        assert icons.count() == len(PAGES) + 1
        assert "8/30" in page.locator("[data-testid='stSidebar']").inner_text()
    finally:
        fresh.stop()


def test_a_concept_view_round_trips_through_its_url(server, browser, page):
    trophy = "The trophy didn't fit in the suitcase because it was too big."
    page.goto(f"{server.url}/concept")
    wait_idle(page)
    box = page.get_by_label("Sentence", exact=True)
    box.fill(trophy)
    box.press("Enter")
    wait_idle(page)
    page.get_by_text("Pick layer and head").click()
    wait_idle(page)
    page.get_by_role("tab", name="Full heatmap").click()
    wait_idle(page)
    url = page.url
    assert "mode=pick" in url and "chart=heatmap" in url and "text=" in url
    fresh = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        other = fresh.new_page()
        other.goto(url)
        wait_idle(other)
        assert other.get_by_label("Sentence", exact=True).input_value() == trophy
        assert other.get_by_role("tab", selected=True).first.inner_text() == "Full heatmap"
        assert other.get_by_role("radio", name="Pick layer and head").is_checked()
        assert other.url == url
        nav = other.locator(NAV_LINK, has_text="Math").first.get_attribute("href")
        assert "text=The+trophy" in nav  # links to other pages carry the sentence
    finally:
        fresh.close()
