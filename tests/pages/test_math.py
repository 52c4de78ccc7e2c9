"""AppTest for the Math page: the real model's cell from a link, every mode and control."""

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import attn_jax
import ui.app.models as models
from tests.apptest import rerun, run_page
from ui.app.content import EXAMPLE
from ui.figures import math as mf

HAS_MODEL = models.get_encoder() is not None
needs_model = pytest.mark.skipif(not HAS_MODEL, reason="all-MiniLM-L6-v2 is not installed")


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label.split(" (")[0]: m.value for m in at.metric}


def _weight(at: AppTest) -> str:
    (label,) = [m.label for m in at.metric if m.label.startswith("weight")]
    return next(m.value for m in at.metric if m.label == label)


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _titles(at: AppTest) -> list[str]:
    return [c["layout"].get("title", {}).get("text", "") for c in _charts(at)]


def _array(data) -> np.ndarray:
    """A figure's array from its JSON: a list, or Plotly's typed-array form (dtype, bdata)."""
    if isinstance(data, dict):
        raw = np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
        return raw.reshape([int(n) for n in data.get("shape", str(raw.size)).split(",")])
    return np.asarray(data, dtype=float)


@pytest.fixture
def app() -> AppTest:
    return run_page("math")


@needs_model
def test_default_is_the_real_model_on_it_to_animal(app):
    assert app.radio(key="math_source").value == "encoder"
    assert (app.selectbox(key="math_layer").value, app.selectbox(key="math_head").value) == (3, 1)
    assert app.selectbox(key="math_query").value == 10  # "it" ([CLS] the animal didn ' t …)
    assert app.selectbox(key="math_key").value == 2  # "animal"
    model = attn_jax.load_model().run(EXAMPLE).attentions[3, 1, 10, 2]
    assert float(_weight(app)) == pytest.approx(float(model), abs=1e-4)
    assert _weight(app).startswith("0.67") and len(_weight(app).split(".")[1]) >= 4
    assert float(_metrics(app)["max |steps − model|"]) <= 1e-5
    assert any("Mode: the real model" in i.value for i in app.info)
    assert app.query_params["query"] == "10" and app.query_params["key"] == "2"
    assert all("NaN" not in c.proto.spec for c in app.get("plotly_chart"))


@needs_model
@pytest.mark.parametrize(
    "source, layer, head, i, j",
    [("encoder", 0, 0, 1, 3), ("model", 5, 11, 10, 2), ("encoder", 2, 7, 14, 0)],
)  # "model": the encoder's old name, in links made before the pages shared `source` values
def test_url_contract_shows_that_cell_of_that_head(source, layer, head, i, j):
    text = "The trophy didn't fit in the suitcase because it was too big."
    query = {"text": text, "source": source, "layer": str(layer), "head": str(head),
             "query": str(i), "key": str(j)}  # fmt: skip
    at = run_page("math", query)
    model = attn_jax.load_model().run(text).attentions[layer, head, i, j]
    assert float(_weight(at)) == pytest.approx(float(model), abs=1e-4)
    assert (
        at.selectbox(key="math_query").value == i and at.text_input(key="math_text").value == text
    )
    assert at.radio(key="math_source").value == "encoder" and not at.warning


@needs_model
def test_bad_url_values_fall_back_with_a_notice_naming_the_key():
    at = run_page("math", {"source": "<b>nope</b>", "layer": "99", "query": "400", "tau": "inf"})
    notices = " ".join(w.value for w in at.warning)
    for key in ("source", "layer", "tau"):
        assert f"“{key}”" in notices
    assert "query" in notices and "nope" not in notices
    assert at.selectbox(key="math_layer").value == 3 and at.selectbox(key="math_query").value == 10


@needs_model
def test_another_head_and_cell_change_the_numbers_and_the_url(app):
    before = _weight(app)
    app.selectbox(key="math_head").set_value(4)
    rerun(app)
    assert _weight(app) != before and app.query_params["head"] == "4"
    app.selectbox(key="math_query").set_value(3)
    rerun(app)
    assert app.query_params["query"] == "3"


@needs_model
@pytest.mark.parametrize("tab", ["qk", "value", "steps"])
def test_each_tab_from_the_url(tab):
    at = run_page("math", {"view": tab, "step": "A·V·W_O"})
    titles = " | ".join(_titles(at))
    if tab == "value":
        assert "terms of out_10" in titles and "adds to" in titles
    if tab == "steps":
        assert "A·V·W_O[head rows] [T=16, D=384]" in titles
    if tab == "qk":
        assert any("q_i∘k_j" in str(c["layout"].get("annotations")) for c in _charts(at))
        assert any("largest terms of q·k" in m.value for m in at.markdown)


def test_random_weights_causal_mask_and_temperature():
    at = run_page("math", {"source": "random", "causal": "1", "view": "steps", "step": "mask"})
    masked = next(c for c in _charts(at) if c["layout"]["title"]["text"].startswith("masked"))
    assert masked["data"][0]["text"][0][1] == "−∞" and np.isnan(
        _array(masked["data"][0]["z"])[0, 1]
    )
    at.selectbox(key="math_query").set_value(0)
    at.selectbox(key="math_key").set_value(1)
    rerun(at)
    assert _weight(at) == "0.0000" and _metrics(at)["scaled score"] == "−∞ (masked)"
    m1 = _metrics(at)
    at.selectbox(key="math_key").set_value(0)
    at.slider(key="math_tau").set_value(2.0)
    rerun(at)
    assert at.query_params["tau"] == "2"
    assert float(_metrics(at)["max |ours − jax.nn|"]) < 1e-5
    assert m1["q_i · k_j"] != _metrics(at)["q_i · k_j"]  # another key
    at.select_slider(key="math_dk").set_value(32)
    rerun(at)
    assert "[T=16, S=16]" in " ".join(_titles(at)) and at.query_params["d_k"] == "32"


def test_tiny_example_and_its_controls():
    at = run_page("math", {"source": "tiny"})
    assert [at.selectbox(key="math_query").format_func(t) for t in range(4)] == [
        "0: I",
        "1: like",
        "2: green",
        "3: tea",
    ]
    assert float(_metrics(at)["q_i · k_j"]).is_integer()  # integers everywhere: checkable by hand
    at.selectbox(key="math_toy_d").set_value(6)
    at.select_slider(key="math_toy_dk").set_value(2)
    at.selectbox(key="math_toy_t").set_value(3)
    at.number_input(key="math_seed").set_value(7)
    rerun(at)
    assert at.query_params["toy_d"] == "6" and at.query_params["seed"] == "7"
    assert float(_metrics(at)["max |ours − jax.nn|"]) < 1e-5


def test_mode_switches_keep_the_sentence(app):
    text = "A cat sat on the mat because it was warm."
    app.text_input(key="math_text").set_value(text)
    rerun(app)
    app.radio(key="math_source").set_value("tiny")
    rerun(app)
    app.radio(key="math_source").set_value("random")
    rerun(app)
    assert app.text_input(key="math_text").value == text


def test_predict_then_reveal(app):
    (tau_q,) = [r for r in app.radio if "τ → 0" in r.label]
    assert tau_q.value is None and not any(s.value.startswith("Right") for s in app.success)
    tau_q.set_value(1)
    rerun(app)
    assert any(s.value.startswith("Right") and "0\\.05" in s.value for s in app.success)


def test_toy_mode_without_the_model(monkeypatch):
    monkeypatch.setattr(models, "load_encoder", lambda: (None, "no model in this test"))
    at = run_page("math")
    assert at.radio(key="math_source").value == "random"
    assert at.selectbox(key="math_query").format_func(0) == "0: [CLS]"
    assert float(_metrics(at)["max |ours − jax.nn|"]) < 1e-5


def test_figures_show_masked_cells_as_minus_infinity_never_nan():
    m = np.array([[1.5, -np.inf], [-2.0, 0.25]])
    trace = mf.step_heatmap(m, ["a", "<b>"], ["a", "<b>"], title="masked").data[0]
    assert np.isnan(trace.z[0][1]) and trace.text[0][1] == "−∞" and trace.text[1][0] == "-2.00"
    assert (trace.zmin, trace.zmax) == (-2.0, 2.0) and list(trace.y) == ["a", "&lt;b&gt;"]
    table = mf.matrix_table(m, ["a", "a"], ["x", "y"])
    assert table.iloc[0, 1] == "−∞" and list(table.index) == ["a", "a₂"]
    big = mf.step_heatmap(np.ones((12, 12)), list("abcdefghijkl"), list("abcdefghijkl"), title="")
    assert big.data[0].texttemplate is None  # 144 cells: hover only
    fig = mf.scaling_figure({k: np.ones(3) for k in ("d_k", "var_raw", "var_scaled", "max_raw",
                             "max_scaled", "entropy_raw", "entropy_scaled")})  # fmt: skip
    assert len(fig.data) == 6 and fig.layout.xaxis.type == "log"


def test_row_bars_fit_the_data():
    fig = mf.row_weights_figure([0.02, 0.05, 0.01], ["a", "b", "c"], title="<i>x</i>", highlight=1)
    assert fig.layout.yaxis.range[1] == pytest.approx(0.05 * 1.18)
    assert fig.layout.title.text == "&lt;i&gt;x&lt;/i&gt;"
    assert mf.top_dimensions([0.1, -3.0, 2.0], 2) == [(1, -3.0), (2, 2.0)]


@pytest.mark.skipif(models.get_decoder() is None, reason="no decoder checkpoint")
def test_the_decoder_with_its_causal_mask():
    text = "def add(a, b):\n    return a + b"
    query = {"source": "decoder", "text": text, "layer": "1", "head": "2", "query": "6", "key": "3"}
    at = run_page("math", query)
    out = models.get_decoder().run(text)
    assert float(_weight(at)) == pytest.approx(float(out.attentions[1, 2, 6, 3]), abs=1e-4)
    assert float(_metrics(at)["max |steps − model|"]) <= 1e-5
    assert any("Mode: the decoder" in i.value for i in at.info)
    at.selectbox(key="math_key").set_value(8)  # after the query: masked
    rerun(at)
    assert _weight(at) == "0.0000" and _metrics(at)["scaled score"] == "−∞ (masked)"
    bad = run_page("math", {"source": "decoder", "layer": "5"})  # 4 layers
    assert any("“layer”" in w.value for w in bad.warning)


needs_llama = pytest.mark.skipif(not models.has_llama(), reason="no Llama-layout checkpoint")
LLAMA_TEXT = "def add(a, b):\n    return a + b"


@needs_llama
@pytest.mark.parametrize("tab", ["cell", "qk", "value", "steps"])
def test_the_llama_decoder_every_tab_with_rotated_q_and_k(tab):
    query = {"source": "llama", "text": LLAMA_TEXT, "layer": "2", "head": "3", "query": "6",
             "key": "3", "view": tab, "step": "Q"}  # fmt: skip
    at = run_page("math", query)
    out = models.get_llama().run(LLAMA_TEXT)
    assert float(_weight(at)) == pytest.approx(float(out.attentions[2, 3, 6, 3]), abs=1e-4)
    assert float(_metrics(at)["max |steps − model|"]) <= 1e-5
    (note,) = [i.value for i in at.info if "Mode: the Llama-layout decoder" in i.value]
    assert "RMSNorm" in note and "K/V group 1" in note and "no projection has a bias" in note
    assert at.radio(key="math_source").value == "llama" and not at.warning
    titles = " | ".join(_titles(at))
    assert "q, pair 2: before → after RoPE" in titles and "q·k against the offset" in titles
    if tab == "steps":
        assert "Q = RoPE(X·W_Q)" in titles
    if tab in ("cell", "qk"):
        assert any("after RoPE" in c.value for c in [*at.caption, *at.markdown])
    if tab == "value":
        assert "adds to" in titles


@needs_llama
def test_the_rope_section_numbers_and_a_shared_link():
    at = run_page("math", {"source": "llama", "text": LLAMA_TEXT, "query": "6", "key": "3"})
    assert [h.value for h in at.header].index("The RoPE step") == 1  # after the map
    assert any(r"\theta_{2}" in x.value and "0.3162" in x.value for x in at.latex)
    charts = {c["layout"]["title"]["text"]: c for c in _charts(at)}
    lines = charts["the same q, k at every position"]["data"]
    flat = [_array(t["y"]) for t in lines]
    assert len(flat) >= 3 and all(np.ptp(y) < 1e-4 * max(1.0, np.abs(y).max()) for y in flat)
    assert any("(the chosen cell)" in t["name"] for t in lines)  # offset 6 − 3 = 3
    at.select_slider(key="math_pair").set_value(5)
    at.selectbox(key="math_head").set_value(1)
    rerun(at)
    assert at.query_params["pair"] == "5" and "q, pair 5: before → after RoPE" in _titles(at)
    shared = run_page("math", {k: at.query_params[k] for k in at.query_params})
    assert shared.select_slider(key="math_pair").value == 5
    assert shared.selectbox(key="math_head").value == 1 and _weight(shared) == _weight(at)


@needs_llama
@pytest.mark.parametrize("bad", ["99", "x<b>"])
def test_a_bad_pair_falls_back_with_a_notice(bad):
    at = run_page("math", {"source": "llama", "pair": bad})
    notices = " ".join(w.value for w in at.warning)
    assert "“pair”" in notices and "<b>" not in notices and "99" not in notices
    assert at.select_slider(key="math_pair").value == 2


def test_other_sources_have_no_rope_section(app):
    assert "The RoPE step" not in [h.value for h in app.header]
