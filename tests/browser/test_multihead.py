"""The Multi-head page in Chromium: the three views and the pins round-trip through the URL,
a click on a thumbnail pins its head, and the page fits a phone."""

from __future__ import annotations

import time
import urllib.parse

import pytest

import attn_jax
from tests.browser.harness import wait_idle
from tests.browser.test_pages import assert_clean

pytestmark = pytest.mark.browser

# the centre of thumbnail (layer, head) in page pixels, from the mosaic's own axes
_THUMB_XY = """([layer, head]) => {
  const el = document.querySelector('.st-key-mh_mosaic .js-plotly-plot');
  const fl = el._fullLayout, dots = el._fullData[1], box = el.getBoundingClientRect();
  const i = layer * 12 + head;  // one dot per head, row-major over the 12 heads
  return [box.left + fl.xaxis._offset + fl.xaxis.l2p(dots.x[i]),
          box.top + fl.yaxis._offset + fl.yaxis.l2p(dots.y[i])];
}"""
_MOSAIC_DRAWN = """() => {
  const el = document.querySelector('.st-key-mh_mosaic .js-plotly-plot');
  return Boolean(el && el._fullLayout && el._fullData && el._fullData[1]);
}"""
VIEW_LABELS = {"raw": "Raw weights", "value-weighted": "Value-weighted", "rollout": "Rollout"}


@pytest.fixture(scope="module", autouse=True)
def model():
    try:
        return attn_jax.load_model()
    except attn_jax.ModelNotFoundError:
        pytest.skip("all-MiniLM-L6-v2 is not installed")


def eventually(read, want, timeout_s: float = 30.0) -> bool:
    """True once read() == want (the browser may still be drawing after the script ends)."""
    deadline = time.monotonic() + timeout_s
    while read() != want:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    return True


def query_of(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(url).query))


def checked_view(page) -> str:
    radio = page.locator(".st-key-mh_view [role='radiogroup'] label:has(input:checked)")
    return radio.inner_text().strip()


def pinned(page) -> list[str]:
    chips = page.locator(".st-key-mh_pins .react-aria-ComboBox [data-tag] span[title]")
    return [chips.nth(i).inner_text().strip() for i in range(chips.count())]


def test_views_switch_and_round_trip_through_the_url(server, page, browser):
    page.goto(f"{server.url}/multihead")
    wait_idle(page)
    assert checked_view(page) == "Raw weights"
    for view, label in VIEW_LABELS.items():
        page.locator(".st-key-mh_view").get_by_text(label, exact=True).click()
        wait_idle(page)
        assert_clean(page)
        assert eventually(lambda p=page: checked_view(p), label)
        assert eventually(lambda p=page: query_of(p.url).get("view", "raw"), view)
        fresh = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        try:
            fresh.goto(page.url)
            wait_idle(fresh)
            assert eventually(lambda p=fresh: checked_view(p), label)
            assert eventually(lambda p=fresh: pinned(p), ["L5 H11", "L0 H0"])
        finally:
            fresh.context.close()


def test_a_click_on_a_thumbnail_pins_its_head(server, page):
    page.goto(f"{server.url}/multihead?pins=5.11")
    wait_idle(page)
    page.locator(".st-key-mh_mosaic").scroll_into_view_if_needed()
    page.wait_for_function(_MOSAIC_DRAWN, timeout=60_000)  # Plotly draws after the script ends
    x, y = page.evaluate(_THUMB_XY, [2, 4])
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    page.mouse.click(x, y)
    page.wait_for_function("() => location.search.includes('2.4')", timeout=60_000)
    wait_idle(page)
    assert_clean(page)
    assert pinned(page) == ["L5 H11", "L2 H4"]
    assert query_of(page.url)["pins"] == "5.11,2.4"


def test_the_mosaic_fits_a_phone(server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"{server.url}/multihead?view=value-weighted&pins=5.11,0.0,3.1,2.4")
        wait_idle(page)
        assert page.locator("[data-testid='stException']").count() == 0
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= page.evaluate("innerWidth")
        box = page.locator(".st-key-mh_mosaic .js-plotly-plot").bounding_box()
        assert box["width"] >= 300 and box["height"] >= 300  # not a 200 x 80 strip
        dots = page.evaluate(
            "() => document.querySelector('.st-key-mh_mosaic .js-plotly-plot')._fullData[1].marker"
        )
        assert dots["color"] == "rgba(0,0,0,0)"  # click targets draw nothing
    finally:
        context.close()


def test_bad_link_values_are_named_not_shown(server, page):
    query = "pins=%5BLog%20in%5D(http%3A%2F%2Fevil.example)&view=3d&kv=5"
    page.goto(f"{server.url}/multihead?{query}")
    wait_idle(page)
    assert_clean(page)
    notices = page.locator("[data-testid='stAlert']").all_inner_texts()
    text = " ".join(notices)
    assert "“pins”" in text and "“view”" in text and "“kv”" in text
    assert "evil" not in text and "Log in" not in text
    assert page.locator("a[href*='evil.example']").count() == 0
    assert checked_view(page) == "Raw weights"


def test_the_model_switch_round_trips(server, page, browser):
    try:
        attn_jax.load_decoder()
    except attn_jax.ModelNotFoundError:
        pytest.skip("the decoder is not installed")
    page.goto(f"{server.url}/multihead?source=decoder&pins=3.3")
    page.locator(".st-key-mh_source").wait_for(timeout=120_000)
    page.locator(".st-key-mh_mosaic .js-plotly-plot").wait_for(timeout=120_000)
    wait_idle(page)
    assert_clean(page)
    dots = "() => document.querySelector('.st-key-mh_mosaic .js-plotly-plot')._fullData[1].x.length"
    assert page.evaluate(dots) == 16  # the decoder: 4 layers x 4 heads
    assert pinned(page) == ["L3 H3"]
    page.screenshot(path="/tmp/attention-portal-multihead-decoder.png", full_page=False)
    page.locator(".st-key-mh_source").get_by_text("Encoder", exact=False).click()
    wait_idle(page)
    assert_clean(page)
    assert "source" not in query_of(page.url)
    assert page.evaluate(dots) == 72
