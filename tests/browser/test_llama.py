"""The Llama-layout decoder in Chromium: the sliding window on Concept, the query heads in
their K/V groups on Multi-head, and `source=llama` surviving a shared link on both pages."""

from __future__ import annotations

import pytest

from tests.browser.harness import wait_idle
from tests.browser.test_copy_model import METRIC
from tests.browser.test_pages import assert_clean

pytestmark = pytest.mark.browser

SHAPES = """key => {
    const el = document.querySelector(`.st-key-${key} .js-plotly-plot`);
    return el && el.layout ? (el.layout.shapes || []).map(s => (s.line || {}).dash || "") : null;
}"""


def test_the_sliding_window_on_the_real_model_round_trips(server, browser, page):
    page.goto(f"{server.url}/concept?source=llama&llm=window")
    wait_idle(page)
    assert page.locator(".st-key-decoder_window .js-plotly-plot").count() == 1
    assert page.evaluate(METRIC, "KV cache kept") == "4 tokens"
    thumb = page.locator(".st-key-concept_window input[type='range']")
    thumb.focus()
    thumb.press("ArrowRight")  # 4 -> 8
    wait_idle(page)
    assert page.evaluate(METRIC, "KV cache kept") == "8 tokens"
    assert "window=8" in page.url and "source=llama" in page.url
    fresh = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        other = fresh.new_page()
        other.goto(page.url)
        wait_idle(other)
        # the window view exists only on the Llama-layout model: the link kept source=llama
        assert other.evaluate(METRIC, "KV cache kept") == "8 tokens"
        assert other.locator(".st-key-decoder_window .js-plotly-plot").count() == 1
    finally:
        fresh.close()
    assert_clean(page)


def test_query_heads_are_framed_in_their_kv_groups(server, page):
    page.goto(f"{server.url}/multihead?source=llama")
    wait_idle(page)
    page.locator(".st-key-mh_mosaic .js-plotly-plot").wait_for()
    dashes = page.evaluate(SHAPES, "mh_mosaic")
    assert dashes.count("dot") == 4 * 2  # 4 layers x 2 K/V groups
    assert "source=llama" in page.url
    assert_clean(page)
