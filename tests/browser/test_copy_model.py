"""The copy model's section in Chromium: the step slider shows the heads forming on the probe
row, knocking out the copying heads drops the copy accuracy on screen, and "train one now"
runs to the end with progress and live charts while a second visitor is told it is busy."""

from __future__ import annotations

import numpy as np
import pytest

from attn_jax.lessons import induction_live as il
from tests.browser.harness import wait_idle
from tests.browser.test_pages import assert_clean

pytestmark = pytest.mark.browser

# the z of a chart's first trace (a heatmap), by the chart's Streamlit key
CHART_Z = """key => {
    const el = document.querySelector(`.st-key-${key} .js-plotly-plot`);
    const z = el && el._fullData ? el._fullData[0].z : null;  // decoded (data may be base64)
    return z ? Array.from(z, row => Array.from(row)) : null;
}"""
METRIC = """label => {
    const m = [...document.querySelectorAll('[data-testid="stMetric"]')]
        .find(e => e.querySelector('[data-testid="stMetricLabel"]').innerText.trim() === label);
    return m ? m.querySelector('[data-testid="stMetricValue"]').innerText.trim() : null;
}"""


def metric(page, label: str) -> str:
    """A metric's value once it is on the page (Plotly and late reruns may still be drawing
    after the script first reads idle on a busy machine); a script error fails with its text."""
    try:
        page.wait_for_function(METRIC, arg=label, timeout=60_000)
    except Exception as exc:  # playwright's TimeoutError: say what the page shows instead
        errors = page.locator("[data-testid='stException']").all_inner_texts()
        raise AssertionError(f"no metric {label!r} on {page.url}: {errors}") from exc
    return page.evaluate(METRIC, label)


def ring_weight(page, key: str, run) -> float:
    """Mean weight of the probe's copying-head map at the keys it should find (the rings)."""
    z = np.asarray(page.evaluate(CHART_Z, key), dtype=float)
    _, _, shift = run.heads()
    a, m = run.probe_start, run.probe_length
    return float(np.mean([z[a + m + j, a + j + 1 + shift] for j in range(m - 1)]))


def test_the_step_slider_shows_the_copying_head_forming(server, page):
    run = il.recorded_run()
    page.goto(f"{server.url}/concept?copy=run&step=0")
    wait_idle(page)
    page.locator(".st-key-copy_probe_copy .js-plotly-plot").wait_for()
    before = ring_weight(page, "copy_probe_copy", run)
    thumb = page.locator(".st-key-copy_step input[type='range']")
    thumb.focus()
    thumb.press("End")  # the last snapshot: the heads have formed
    wait_idle(page)
    assert "step=" not in page.url  # the default step is left out of the link
    after = ring_weight(page, "copy_probe_copy", run)
    assert before < 0.2 < 0.6 < after, (before, after)
    assert page.evaluate(METRIC, "step") == f"{int(run.steps[-1]):,}"
    assert_clean(page)


def test_knocking_out_the_copying_heads_drops_the_accuracy_on_screen(server, page):
    page.goto(f"{server.url}/concept?copy=try")
    wait_idle(page)
    label = f"on {il.HELD_OUT_ROWS} held-out rows"
    full = float(metric(page, label).rstrip("%"))
    page.goto(f"{server.url}/concept?copy=try&copy_ablate=1.0,1.1,1.2,1.3")
    wait_idle(page)
    knocked = float(metric(page, label).rstrip("%"))
    assert full >= 80 and knocked < 20, (full, knocked)
    assert page.locator(".st-key-copy_typed_map .js-plotly-plot").count() == 1
    assert_clean(page)


def test_train_one_now_runs_to_the_end_and_a_second_visitor_is_told_it_is_busy(
    server, browser, page
):
    page.goto(f"{server.url}/concept?copy=train")
    wait_idle(page)
    page.get_by_role("button", name="Train a copy model now").click()
    page.locator("[data-testid='stProgress']").wait_for(timeout=60_000)  # the worker reports
    second = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        other = second.new_page()
        other.goto(f"{server.url}/concept?copy=train")
        wait_idle(other)
        other.get_by_role("button", name="Train a copy model now").click()
        other.get_by_text("Busy: another visitor is training").wait_for(timeout=60_000)
    finally:
        second.close()
    # live curves while it trains: a chart in the tab while the progress bar is still there
    page.wait_for_function(
        """() => document.querySelector("[data-testid='stProgress']")
              && document.querySelector("[data-testid='stTabs'] .js-plotly-plot")""",
        timeout=120_000,
    )
    page.get_by_text("Your run (seed 1, learning rate 0.003)").wait_for(timeout=240_000)
    wait_idle(page)
    assert page.locator(".st-key-copy_own_curves .js-plotly-plot").count() == 1
    assert page.locator(".st-key-copy_own_probe_copy .js-plotly-plot").count() == 1
    assert page.locator("[data-testid='stProgress']").count() == 0
    assert_clean(page)
