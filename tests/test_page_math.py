"""AppTest for the Math page: every control reruns without error and changes the numbers."""

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import ui.components as components
from tests.apptest import page_test
from ui import math_figures as mf

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "2_math.py")
TOY = "Tiny example (checkable by hand)"


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _titles(at: AppTest) -> list[str]:
    return [c["layout"].get("title", {}).get("text", "") for c in _charts(at)]


@pytest.fixture
def app() -> AppTest:
    return _run(page_test("math", timeout=120))


def test_default_page_shows_every_step(app):
    titles = " | ".join(_titles(app))
    for part in ("X [T=", "W_Q [D=384, d_k=16]", "Q = X·W_Q", "QKᵀ [T=", "softmax weights A"):
        assert part in titles
    assert "output A·V" in titles and len(app.latex) >= 12
    m = _metrics(app)
    assert {"q_i · k_j", "scaled score", "weight a_ij"} <= set(m)
    assert float(m["max |ours − jax.nn.dot_product_attention|"]) < 1e-5
    assert [h.value for h in app.header][-1] == "6 · Why divide by √d_k?"
    assert all("NaN" not in c.proto.spec for c in app.get("plotly_chart"))
    if components.get_encoder() is not None:  # the model's files are installed in the venv
        assert any("embedding layer" in c.value for c in app.caption)
        assert app.selectbox(key="math_i").value == 10  # "it" (after [CLS] the animal didn ' t …)
        assert app.selectbox(key="math_j").value == 2  # "animal"


def test_causal_mask_changes_weights_and_shows_minus_infinity(app):
    before = _metrics(app)["weight a_ij"]
    app.toggle(key="math_causal").set_value(True)
    app.toggle(key="math_tables").set_value(True)
    _run(app)
    assert _metrics(app)["weight a_ij"] != before
    masked = next(c for c in _charts(app) if c["layout"]["title"]["text"].startswith("masked"))
    text = masked["data"][0]["text"]
    assert text[0][1] == "−∞" and text[1][0] != "−∞"
    assert masked["data"][0]["z"][0][1] is None  # blank cell, not a colour for -inf or NaN
    assert all("NaN" not in c.proto.spec for c in app.get("plotly_chart"))
    assert any((df.value == "−∞").to_numpy().any() for df in app.dataframe)
    terms = next(df.value for df in app.dataframe if "Σ = output row" in df.value.index)
    np.testing.assert_allclose(terms.iloc[:-1].sum(axis=0), terms.iloc[-1], atol=1e-3)
    app.selectbox(key="math_i").set_value(0)
    app.selectbox(key="math_j").set_value(1)
    _run(app)
    assert _metrics(app)["weight a_ij"] == "0.0000"
    assert _metrics(app)["scaled score"] == "−∞ (masked)"


def test_other_dk_and_other_cell_change_the_numbers(app):
    before = _metrics(app)
    app.selectbox(key="math_dk").set_value(32)
    _run(app)
    assert "W_K [D=384, d_k=32]" in _titles(app)
    after_dk = _metrics(app)
    assert after_dk["q_i · k_j"] != before["q_i · k_j"]
    app.selectbox(key="math_i").set_value(1)
    app.selectbox(key="math_j").set_value(3)
    _run(app)
    assert _metrics(app)["q_i · k_j"] != after_dk["q_i · k_j"]


def test_temperature_divides_the_scaled_score(app):
    m1 = _metrics(app)
    app.slider(key="math_tau").set_value(2.0)
    _run(app)
    m2 = _metrics(app)
    assert m2["q_i · k_j"] == m1["q_i · k_j"]
    assert float(m2["scaled score"]) == pytest.approx(float(m1["scaled score"]) / 2, abs=2e-4)
    assert m2["weight a_ij"] != m1["weight a_ij"]


def test_tiny_example_and_its_controls(app):
    app.radio(key="math_mode").set_value(TOY)
    _run(app)
    assert [app.selectbox(key="math_i").format_func(t) for t in range(4)] == [
        "0: I",
        "1: like",
        "2: green",
        "3: tea",
    ]
    m = _metrics(app)
    assert float(m["q_i · k_j"]).is_integer()  # integers everywhere: checkable by hand
    assert "X [T=4, D=4]" in _titles(app)
    app.selectbox(key="math_toy_d").set_value(6)
    app.selectbox(key="math_toy_dk").set_value(2)
    app.selectbox(key="math_toy_t").set_value(3)
    app.number_input(key="math_seed").set_value(7)
    _run(app)
    titles = _titles(app)
    assert "X [T=3, D=6]" in titles and "W_V [D=6, d_k=2]" in titles
    assert float(_metrics(app)["max |ours − jax.nn.dot_product_attention|"]) < 1e-5


def test_long_sentence_is_cut_with_a_notice(app):
    app.text_input(key="math_text").set_value("one two three four five " * 8)
    _run(app)
    assert any("Only the first 16" in i.value for i in app.info)
    assert "X [T=16, D=384]" in _titles(app)


def test_toy_mode_without_the_model(monkeypatch):
    monkeypatch.setattr(components, "_load_encoder", lambda: (None, "no model in this test"))
    at = _run(page_test("math", timeout=120))
    assert any("Toy mode" in w.value for w in at.warning)
    assert at.selectbox(key="math_i").format_func(0) == "0: [CLS]"
    assert float(_metrics(at)["max |ours − jax.nn.dot_product_attention|"]) < 1e-5


def test_figures_show_masked_cells_as_minus_infinity_never_nan():
    m = np.array([[1.5, -np.inf], [-2.0, 0.25]])
    trace = mf.step_heatmap(m, ["a", "<b>"], ["a", "<b>"], title="masked").data[0]
    assert trace.z[0][1] is None and trace.text[0][1] == "−∞" and trace.text[1][0] == "-2.00"
    assert (trace.zmin, trace.zmax) == (-2.0, 2.0) and list(trace.y) == ["a", "‹b›"]
    table = mf.matrix_table(m, ["a", "a"], ["x", "y"])
    assert table.iloc[0, 1] == "−∞" and list(table.index) == ["a", "a ·1"]
    fig = mf.scaling_figure({k: np.ones(3) for k in ("d_k", "var_raw", "var_scaled", "max_raw",
                             "max_scaled", "entropy_raw", "entropy_scaled")})  # fmt: skip
    assert len(fig.data) == 6 and fig.layout.xaxis.type == "log"
