"""AppTest for the Complexity page: a tiny sweep, guard rails on screen, long-context table."""

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from attn_jax.bench import sweep as cx
from tests.apptest import page_test

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "4_complexity.py")


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def tiny(at: AppTest, lengths=(16, 32)) -> AppTest:
    at.multiselect(key="cx_lengths").set_value(list(lengths))
    at.select_slider(key="cx_heads").set_value(2)
    at.select_slider(key="cx_head_dim").set_value(16)
    at.slider(key="cx_repeats").set_value(1)
    return at


def test_page_loads_with_defaults_and_no_sweep():
    at = page_test("complexity", timeout=120).run()
    assert not at.exception
    assert at.multiselect(key="cx_lengths").value == cx.default_lengths("cpu")
    assert any("Run the sweep" in info.value for info in at.info)
    assert not at.get("plotly_chart")
    assert len(at.dataframe) == 1  # the long-context table is always there


def test_tiny_sweep_draws_charts_and_table():
    at = tiny(page_test("complexity", timeout=120).run())
    at.button(key="cx_run").click().run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 3
    table = at.dataframe[0].value
    assert list(table.columns) == cx.COLUMNS
    assert set(table["n"]) == {16, 32} and (table["status"] == "ok").all()
    assert at.get("download_button")
    # a rerun (e.g. another widget) keeps the last result on screen
    at.selectbox(key="cx_model").set_value("GPT-2 small").run()
    assert len(at.get("plotly_chart")) == 3
    assert any(c.value.startswith("GPT-2 small: 12 layers") for c in at.caption)


def test_too_large_request_shows_an_error():
    at = page_test("complexity", timeout=120).run()
    at.multiselect(key="cx_lengths").set_value([65536])
    at.select_slider(key="cx_heads").set_value(16)
    at.select_slider(key="cx_head_dim").set_value(128)
    at.button(key="cx_run").click().run()
    assert not at.exception
    assert at.error and "Too large" in at.error[0].value
    assert not at.get("plotly_chart")


def test_busy_server_says_try_again():
    at = tiny(page_test("complexity", timeout=120).run())
    assert cx.SWEEP_LOCK.acquire(blocking=False)
    try:
        at.button(key="cx_run").click().run()
    finally:
        cx.SWEEP_LOCK.release()
    assert not at.exception
    assert any("try again" in w.value for w in at.warning)
