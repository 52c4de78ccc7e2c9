"""The Math page in Chromium: its URL contract, and clicking attention cells to open them."""

from __future__ import annotations

import re
import time
import urllib.parse

import pytest

import attn_jax
from tests.browser.harness import wait_idle
from tests.browser.test_pages import assert_clean
from ui.app.content import EXAMPLE
from ui.app.models import has_llama

pytestmark = pytest.mark.browser

# Plotly's own axes map a cell's indices to pixels; the page is the visitor's, the numbers ours.
_CELL_XY = """([chart, i, j]) => {
  const el = document.querySelectorAll('.js-plotly-plot')[chart];
  const fl = el._fullLayout, box = el.getBoundingClientRect();
  return [box.left + fl.xaxis._offset + fl.xaxis.l2p(j),
          box.top + fl.yaxis._offset + fl.yaxis.l2p(i)];
}"""
_CLICKABLE = """() => [...document.querySelectorAll('.js-plotly-plot')].map((el) =>
  el.layout && el.layout.clickmode === 'event+select' && el.data.length > 1 &&
  el.data[0].type === 'heatmap' && !!el.data[1].customdata)"""


@pytest.fixture(scope="module")
def model():
    try:
        return attn_jax.load_model()
    except attn_jax.ModelNotFoundError:
        pytest.skip("all-MiniLM-L6-v2 is not installed")


def weight_metric(page) -> tuple[str, str]:
    metric = page.locator("[data-testid='stMetric']", has_text="weight").first
    label = metric.locator("[data-testid='stMetricLabel']").inner_text().strip()
    return label, metric.locator("[data-testid='stMetricValue']").inner_text().strip()


_DRAWN = """() => [...document.querySelectorAll('.js-plotly-plot')].map(
  (el) => !!(el._fullLayout && el.querySelector('.main-svg')))"""


def _settled_charts(page, timeout_s: float = 60.0) -> None:
    """Wait until every Plotly chart on the page is drawn and no new one comes for a second:
    a chart drawn above another moves it, and a click aimed before that lands elsewhere."""
    deadline, last, steady = time.monotonic() + timeout_s, None, 0
    while time.monotonic() < deadline:
        drawn = page.evaluate(_DRAWN)
        steady = steady + 1 if drawn and all(drawn) and drawn == last else 0
        if steady >= 4:
            return
        last = drawn
        page.wait_for_timeout(250)
    raise TimeoutError(f"the page's charts did not settle: drawn {last}")


def click_cell(page, i: int, j: int) -> None:
    """Click cell (i, j) of the first clickable heatmap on the page."""
    # Plotly draws after the script has finished: wait for the map, fail if it never comes
    page.wait_for_function(f"() => ({_CLICKABLE})().includes(true)", timeout=60_000)
    _settled_charts(page)
    chart = page.evaluate(_CLICKABLE).index(True)
    page.locator(".js-plotly-plot").nth(chart).scroll_into_view_if_needed()
    x, y = page.evaluate(_CELL_XY, [chart, i, j])
    page.mouse.move(x, y)
    page.wait_for_timeout(200)
    page.mouse.click(x, y)


def query_of(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(url).query))


def test_url_contract_shows_the_cell_with_the_models_weight(server, page, model):
    text = "The trophy didn't fit in the suitcase because it was too big."
    query = {"text": text, "source": "model", "layer": 5, "head": 11, "query": 10, "key": 2}
    page.goto(f"{server.url}/math?{urllib.parse.urlencode(query)}")
    wait_idle(page)
    assert_clean(page)
    label, value = weight_metric(page)
    assert label.startswith("weight") and re.fullmatch(r"\d\.\d{4,}", value)
    assert float(value) == pytest.approx(float(model.run(text).attentions[5, 11, 10, 2]), abs=1e-4)


def test_clicking_a_cell_of_the_math_heatmap_opens_its_breakdown(server, page, model):
    page.goto(f"{server.url}/math")
    wait_idle(page)
    click_cell(page, 5, 8)
    page.wait_for_url(re.compile(r".*query=5.*"), timeout=60_000)
    wait_idle(page)
    assert_clean(page)
    params = query_of(page.url)
    assert (params["query"], params["key"]) == ("5", "8")
    want = float(model.run(EXAMPLE).attentions[3, 1, 5, 8])
    assert float(weight_metric(page)[1]) == pytest.approx(want, abs=1e-4)
    click_cell(page, 1, 2)
    page.wait_for_url(re.compile(r".*query=1&key=2.*"), timeout=60_000)
    wait_idle(page)
    want = float(model.run(EXAMPLE).attentions[3, 1, 1, 2])
    assert float(weight_metric(page)[1]) == pytest.approx(want, abs=1e-4)


def test_clicking_a_concept_heatmap_cell_opens_the_math_page(server, page, model):
    page.goto(f"{server.url}/concept?chart=heatmap")  # the full heatmap of the head found
    wait_idle(page)
    click_cell(page, 10, 2)
    page.wait_for_url(re.compile(r".*/math\?.*"), timeout=60_000)
    wait_idle(page)
    assert_clean(page)
    params = query_of(page.url)
    assert (params["query"], params["key"]) == ("10", "2")
    text = params.get("text", EXAMPLE)
    layer, head = int(params.get("layer", 3)), int(params.get("head", 1))
    want = float(model.run(text).attentions[layer, head, 10, 2])
    assert float(weight_metric(page)[1]) == pytest.approx(want, abs=1e-4)


@pytest.mark.parametrize("query", ["source=random&causal=1&view=steps&step=mask", "source=tiny"])
def test_other_modes_and_views_render(server, page, query):
    page.goto(f"{server.url}/math?{query}")
    wait_idle(page)
    assert_clean(page)
    assert "Mode:" in page.inner_text("body")


@pytest.mark.skipif(not has_llama(), reason="no Llama-layout checkpoint")
def test_the_llama_decoder_shows_the_rope_step(server, page):
    page.goto(f"{server.url}/math?source=llama&pair=3")
    wait_idle(page)
    assert_clean(page)
    body = page.inner_text("body")
    assert "Mode: the Llama-layout decoder" in body and "The RoPE step" in body
    _settled_charts(page)
    titles = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')]
      .map((el) => (el.layout.title && el.layout.title.text) || '')""")
    for title in ("q, pair 3: before → after RoPE", "k, pair 3: before → after RoPE",
                  "the same q, k at every position", "q·k against the offset m − n"):  # fmt: skip
        assert any(title in shown for shown in titles), titles  # the theme wraps them in <b>
    assert_clean(page)
