"""AppTest for the Complexity page: curves at first paint, a tiny sweep in a worker, guard
rails on screen, every setting in the URL, the new sections behind their tabs."""

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from attn_jax.bench import sweep as cx
from attn_jax.bench import worker
from tests.apptest import page_test


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


def test_first_paint_shows_measured_curves_labelled_with_device_and_time():
    at = page_test("complexity", timeout=300).run()
    assert not at.exception and not at.error
    assert at.multiselect(key="cx_lengths").value == cx.default_lengths("cpu")
    assert len(at.get("plotly_chart")) == 3
    label = next(i.value for i in at.info if "Measured once" in i.value)
    assert "cpu" in label and "UTC" in label and "Run the sweep" in label
    assert set(at.dataframe[0].value["n"]) == {64, 128, 256, 512, 1024}


def test_tiny_sweep_replaces_the_first_paint():
    at = tiny(page_test("complexity", timeout=300).run())
    at.button(key="cx_run").click().run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 3
    table = at.dataframe[0].value
    assert list(table.columns) == cx.COLUMNS
    assert set(table["n"]) == {16, 32} and (table["status"] == "ok").all()
    assert not any("Measured once" in i.value for i in at.info)
    assert at.get("download_button")


def test_too_large_request_shows_an_error_before_any_worker_starts():
    at = page_test("complexity", timeout=300).run()
    at.multiselect(key="cx_lengths").set_value([65536])
    at.select_slider(key="cx_heads").set_value(16)
    at.select_slider(key="cx_head_dim").set_value(128)
    at.button(key="cx_run").click().run()
    assert not at.exception
    assert at.error and "Too large" in at.error[0].value


def test_busy_server_says_try_again():
    at = tiny(page_test("complexity", timeout=300).run())
    assert worker.LOCK.acquire(blocking=False)
    try:
        at.button(key="cx_run").click().run()
    finally:
        worker.LOCK.release()
    assert not at.exception
    assert any("try again" in w.value for w in at.warning)


def test_settings_come_from_the_url_and_garbage_falls_back_with_a_notice():
    query = {"heads": "4", "head_dim": "32", "n": "64,256", "methods": "attention,conv1d",
             "repeats": "2", "budget": "30", "dtype": "bfloat16", "window": "9999",
             "causal": "maybe", "model": "<img src=x>"}  # fmt: skip
    at = page_test("complexity", timeout=300, query=query).run()
    assert not at.exception
    assert at.select_slider(key="cx_heads").value == 4
    assert at.select_slider(key="cx_head_dim").value == 32
    assert at.multiselect(key="cx_lengths").value == [64, 256]
    assert at.multiselect(key="cx_methods").value == ["attention", "conv1d"]
    assert at.slider(key="cx_repeats").value == 2 and at.slider(key="cx_budget").value == 30
    assert at.selectbox(key="cx_dtype").value == "bfloat16"
    notices = " ".join(w.value for w in at.warning)
    for key in ("window", "causal", "model"):
        assert f"“{key}”" in notices
    assert "<img" not in notices and at.session_state["cx_window"] == 256


@pytest.mark.parametrize(
    "view,widget",
    [("Sliding window", "cx_window_run"), ("Prefill vs decode", "cx_decode_run"),
     ("Past one device", "cx_ring_run"), ("Long context", "cx_model")],
)  # fmt: skip
def test_each_section_opens_from_the_url(view, widget):
    at = page_test("complexity", timeout=300, query={"view": view}).run()
    assert not at.exception
    assert at.session_state["cx_view"] == view
    assert widget in [w.key for w in (*at.button, *at.selectbox)]
    if view == "Long context":
        assert len(at.dataframe) == 1


def test_ring_section_measures_memory_and_exactness():
    at = page_test("complexity", timeout=300, query={"view": "Past one device", "ring_n": "1024"})
    at.run()
    at.button(key="cx_ring_run").click().run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 2  # the ring schedule and memory against P
    rows = at.dataframe[0].value
    assert list(rows["P"]) == [1, 2, 4, 8]
    assert (rows["max_abs_err"] < 1e-5).all()
    assert rows["kv_bytes"].iloc[0] == 8 * rows["kv_bytes"].iloc[-1]
