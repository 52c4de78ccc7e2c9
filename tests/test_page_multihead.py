"""AppTest for the Multi-head page: pinning, comparing, statistics, GQA, URL state, toy mode."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import ui.components as uic
from attn_jax.lessons.heads import head_js
from tests.apptest import page_test

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "3_multihead.py")
TOKENS = ["[CLS]", "the", "cat", "sat", ",", "it", "purred", ".", "[SEP]"]


def fake_run(text: str):
    """A stand-in for the model: [L=6,N=12,T,T] random rows, seeded by the text."""
    rng = np.random.default_rng(len(text))
    t = len(TOKENS)
    attn = rng.dirichlet(np.ones(t) * 0.3, size=(6, 12, t)).astype(np.float32)
    return SimpleNamespace(tokens=list(TOKENS), attentions=attn, truncated=False)


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def fake_model(monkeypatch):
    encoder = SimpleNamespace(config=SimpleNamespace(n_layers=6, n_heads=12))
    monkeypatch.setattr(uic, "get_encoder", lambda: encoder)
    monkeypatch.setattr(uic, "run_model", fake_run)


def run_page(params=None) -> AppTest:
    at = page_test("multihead", timeout=120)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def qp(at: AppTest, key: str) -> str:
    """A query param of the finished run as one string."""
    value = at.query_params[key]
    return value[-1] if isinstance(value, list) else value


def test_default_view_with_whatever_model_is_installed():
    at = run_page()
    titles = [h.value for h in at.header]
    assert "Grouped-query attention (GQA)" in titles and "Heads in real models" in titles
    if uic.get_encoder() is not None:
        assert at.multiselect(key="mh_pins").value == ["L5 H11", "L0 H0"]
        assert any("Jensen-Shannon" in m.label for m in at.metric)
        assert qp(at, "pins") == "5.11,0.0"
    else:
        assert any("Toy mode" in i.value for i in at.info)


def test_pin_a_third_head_and_share_it(fake_model):
    at = run_page()
    n_charts = len(at.get("plotly_chart"))
    at.multiselect(key="mh_pins").select("L2 H7").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == n_charts + 1
    assert qp(at, "pins") == "5.11,0.0,2.7"
    assert len(at.get("download_button")) >= 4  # 3 pinned maps, difference, statistics


def test_compare_two_heads(fake_model):
    at = run_page({"pins": "1.2,3.4"})
    at.selectbox(key="mh_cmp_b").set_value("L1 H2")
    at.selectbox(key="mh_cmp_a").set_value("L3 H4").run()
    assert not at.exception
    out = fake_run(at.text_input(key="mh_text").value)
    expected = head_js(out.attentions[3, 4], out.attentions[1, 2])
    metric = next(m for m in at.metric if "Jensen-Shannon" in m.label)
    assert metric.value == f"{expected:.3f} nats"
    at.text_input(key="mh_text2").input("A much longer second sentence here.").run()
    assert not at.exception


def test_statistics_table_and_heatmap(fake_model):
    at = run_page({"stat": "prev", "view": "table"})
    assert at.selectbox(key="mh_stat").value == "prev"
    table = at.dataframe[0].value
    assert len(table) == 72 and "role (heuristic)" in table.columns
    assert sorted(table["cluster order"]) == list(range(72))
    at.radio(key="mh_view").set_value("heatmap").run()
    assert not at.exception and qp(at, "view") == "heatmap"
    assert qp(at, "stat") == "prev"


@pytest.mark.parametrize(
    "params",
    [
        {"pins": "99.99,banana", "stat": "nope", "view": "3d"},
        {"s": "\x00\x01", "pins": "1.1,2.2,3.3,4.4,5.5"},
        {"pins": "-1.-1", "s2": ""},
    ],
)
def test_bad_query_params_fall_back_with_a_notice(fake_model, params):
    at = run_page(params)
    assert at.warning, "a notice explains what was ignored"
    pins = qp(at, "pins").split(",")
    assert 1 <= len(pins) <= 4
    assert at.selectbox(key="mh_stat").value in ("entropy", "prev")
    assert at.text_input(key="mh_text").value.strip()


def test_toy_mode_still_teaches(monkeypatch):
    monkeypatch.setattr(uic, "get_encoder", lambda: None)
    monkeypatch.setattr(uic, "run_model", lambda text: None)
    at = run_page({"pins": "garbage"})
    assert any("Toy mode" in i.value for i in at.info)
    assert any("pip install --no-deps" in i.value for i in at.info)
    assert len(at.get("plotly_chart")) == 5  # toy heads, concat/W_O, GQA groups and heads, KV
    at.select_slider(key="toy_n").set_value(8).run()
    at.select_slider(key="mh_kv").set_value(1).run()
    assert not at.exception
    assert any(m.value == "1.00 GiB" for m in at.metric)  # Llama 3 8B, 8192 tokens, fp16


def test_pins_survive_an_empty_sentence(fake_model):
    at = run_page({"pins": "3.3,4.4"})
    at.text_input(key="mh_text").input("").run()
    assert not at.exception and any("empty" in i.value for i in at.info)
    at.text_input(key="mh_text").input("Back again.").run()
    assert at.multiselect(key="mh_pins").value == ["L3 H3", "L4 H4"]
    assert qp(at, "pins") == "3.3,4.4"
