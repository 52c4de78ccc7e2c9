"""AppTest for the home page and the Concept page (real model, widget changes)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import APP, page_test
from ui.app.content import EXAMPLE
from ui.app.text import md_escape

ROOT = Path(__file__).resolve().parents[2]
CONCEPT = str(ROOT / "pages" / "1_concept.py")
TIMEOUT = 180  # the first run loads the model and compiles a length bucket


def charts(at):
    return at.get("plotly_chart")


def test_home_shows_header_backend_and_links():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value == "Self-Attention, live"
    assert any("8/30" in c.value for c in at.caption)
    assert [m.label for m in at.metric][:1] == ["JAX backend"]
    assert at.metric[2].value == "loaded"


@pytest.fixture(scope="module")
def concept():
    at = page_test("concept", timeout=TIMEOUT).run()
    assert not at.exception
    return at


def test_concept_live_example_finds_it_to_animal(concept):
    text = "\n".join(m.value for m in concept.markdown)
    assert "Strongest link from **it** to **animal**" in text
    # illustrative, the open view (only the chosen tab is built), 2 counterfactual, 2 patterns,
    # the copy model's recorded run (its curves and two heads on the probe)
    assert [c.key for c in charts(concept)] == [
        "illustrative", "main_row", "cf_a", "cf_b", "pattern_0_2", "pattern_3_1",
        "copy_curves", "copy_probe_prev", "copy_probe_copy",
    ]  # fmt: skip
    assert concept.table[0] is not None  # RNN vs CNN vs self-attention
    assert any("pronoun → antecedent" in m.value for m in concept.markdown)
    assert any("not why" in i.value for i in concept.info)


def test_concept_new_sentence_updates_the_page(concept):
    concept.text_input(key="concept_text").set_value(
        "The trophy didn't fit in the suitcase because it was too big."
    ).run()
    assert not concept.exception
    text = "\n".join(m.value for m in concept.markdown)
    assert "Strongest link from **it** to **trophy**" in text


def test_concept_pick_layer_and_head_starts_at_the_found_head(concept):
    concept.text_input(key="concept_text").set_value(EXAMPLE).run()
    concept.radio(key="concept_mode").set_value("pick").run()
    assert (
        concept.slider(key="concept_layer").value,
        concept.slider(key="concept_head").value,
    ) == (3, 1)
    concept.slider(key="concept_layer").set_value(0).run()
    concept.slider(key="concept_head").set_value(2).run()
    assert not concept.exception
    assert any("layer 0, head 2" in str(c.proto.spec) for c in charts(concept))
    url = dict(concept.query_params)
    assert (url["mode"], url["layer"], url["head"]) == ("pick", "0", "2")


SHARED = {
    "text": "The trophy didn't fit in the suitcase because it was too big.",
    "query": "10",
    "mode": "pick",
    "layer": "3",
    "head": "1",
    "chart": "heatmap",
    "text2": "The trophy didn't fit in the suitcase because it was too small.",
}


def test_concept_view_from_a_shared_link():
    at = page_test("concept", query=SHARED).run()
    assert not at.exception and not at.warning
    assert at.text_input(key="concept_text").value == SHARED["text"]
    assert at.text_input(key="concept_text2").value == SHARED["text2"]
    assert at.selectbox(key="concept_query").value == 10
    assert at.radio(key="concept_mode").value == "pick"
    assert (at.slider(key="concept_layer").value, at.slider(key="concept_head").value) == (3, 1)
    assert "main_heatmap" in [c.key for c in charts(at)]
    assert dict(at.query_params) == SHARED  # the URL keeps the view


@pytest.mark.parametrize(
    "query",
    [
        {"layer": "99", "mode": "pick"},
        {"query": "400"},
        {"chart": "![x](http://evil.example/p.png)"},
        {"text": "x" * 100_000},
        {"mode": ["find", "pick"]},
        {"nonsense": "1"},
    ],
)
def test_concept_garbage_in_the_link_falls_back_with_a_notice(query):
    at = page_test("concept", query=query).run()
    assert not at.exception
    notices = [w.value for w in at.warning]
    assert len(notices) == 1 and "evil" not in notices[0]
    assert next(iter(query)) in notices[0]


@pytest.mark.parametrize("text", ["", "   \n\t", "<script>alert(1)</script>" * 3, "ü" * 5000])
def test_concept_odd_text_keeps_working(text):
    at = page_test("concept", timeout=TIMEOUT).run()
    at.text_input(key="concept_text").set_value(text[:2000]).run()
    assert not at.exception
    if not text.strip():
        assert any("empty" in i.value for i in at.info)


@pytest.mark.parametrize("view", ["value-weighted", "rollout"])
def test_concept_views_beyond_raw_weights(view):
    at = page_test("concept", query={"view": view, "chart": "heatmap"}).run()
    assert not at.exception and not at.warning
    assert at.radio(key="concept_view").value == view
    assert "main_heatmap" in [c.key for c in charts(at)]
    assert dict(at.query_params)["view"] == view


def test_concept_predict_then_reveal():
    at = page_test("concept").run()  # the worked example, L3·H1 found for it -> animal
    quiz = [r for r in at.radio if r.key and r.key.startswith("concept_quiz_key")]
    assert len(quiz) == 1 and quiz[0].value is None
    quiz[0].set_value(quiz[0].options.index("animal")).run()
    assert any("Right" in s.value for s in at.success)
    prev = [r for r in at.radio if r.key and r.key.startswith("concept_quiz_prev")]
    prev[0].set_value(prev[0].options.index(md_escape("layer 0, head 2"))).run()
    assert sum("Right" in s.value for s in at.success) == 2


def test_concept_a_paste_past_the_limit_is_cut_with_a_notice():
    at = page_test("concept").run()
    at.text_input(key="concept_text").set_value("word " * 1000).run()  # 5,000 characters
    assert not at.exception
    assert len(at.text_input(key="concept_text").value) == 2000
    assert any("5,000 characters" in i.value and "2,000" in i.value for i in at.info)


def test_concept_second_sentence_survives_emptying_the_first():
    at = page_test("concept").run()
    mine = "The cup didn't fit in the bag because it was too small."
    at.text_input(key="concept_text2").set_value(mine).run()
    at.text_input(key="concept_text").set_value("").run()
    assert any("empty" in i.value for i in at.info)
    at.text_input(key="concept_text").set_value(EXAMPLE).run()
    assert at.text_input(key="concept_text2").value == mine


@pytest.mark.parametrize("tab", ["next", "sinks", "induction", "training", "cache"])
def test_concept_page_with_the_decoder(tab):
    at = page_test("concept", query={"source": "decoder", "llm": tab, "chart": "heatmap"}).run()
    assert not at.exception and not at.warning
    assert at.radio(key="concept_source").value == "decoder"
    assert dict(at.query_params)["source"] == "decoder"
    keys = [c.key for c in at.get("plotly_chart")]
    assert "main_heatmap" in keys
    expected = {"sinks": "decoder_sinks", "induction": "decoder_induction",
                "training": "decoder_training"}  # fmt: skip
    if tab in expected:
        assert expected[tab] in keys
    if tab == "next":
        assert len(at.dataframe) >= 1  # the predictions
    if tab == "cache":
        assert any(m.label.startswith("max |cached") for m in at.metric)


def test_knocking_out_decoder_heads_moves_its_predictions():
    at = page_test("concept", query={"source": "decoder", "llm": "next", "ablate": "0.1,1.2"})
    at.run()
    assert not at.exception and not at.warning
    assert at.multiselect(key="concept_ablate").value == [(0, 1), (1, 2)]
    metrics = {m.label: m.value for m in at.metric}
    changed = metrics["top-1 prediction changed"]
    assert changed.endswith("positions") and int(changed.split()[0]) >= 0
    assert 0 <= float(metrics["probability of the original top-1"].rstrip("%")) <= 100
    assert len(at.dataframe) >= 2  # the predictions, then without the heads
    assert dict(at.query_params)["ablate"] == "0.1,1.2"
    at.multiselect(key="concept_ablate").set_value([]).run()
    assert not at.exception and "ablate" not in at.query_params


def test_knocked_out_heads_the_decoder_lacks_are_dropped_with_a_notice():
    at = page_test("concept", query={"source": "decoder", "ablate": "9.9,0.0"}).run()
    assert not at.exception
    assert any("were dropped" in i.value for i in at.info)
    assert at.multiselect(key="concept_ablate").value == [(0, 0)]


@pytest.mark.parametrize("tab", ["next", "induction", "cache"])
def test_concept_page_with_the_llama_layout_decoder(tab):
    at = page_test("concept", query={"source": "llama", "llm": tab, "ablate": "0.1"}).run()
    assert not at.exception and not at.warning
    assert at.radio(key="concept_source").value == "llama"
    assert dict(at.query_params)["source"] == "llama"
    keys = [c.key for c in at.get("plotly_chart")]
    assert "main_row" in keys and ("decoder_induction" in keys) == (tab == "induction")
    metrics = {m.label: m.value for m in at.metric}
    if tab == "next":
        assert "top-1 prediction changed" in metrics  # the knock-out, on this model's heads
    if tab == "cache":
        assert float(metrics["max |cached − full| logit"]) < 1e-3
        assert "K/V heads" in "\n".join(c.value for c in at.caption)


def test_a_decoder_that_cannot_load_says_why(monkeypatch):
    import ui.app.models as models

    why = "ModelTooLargeError: big-llama: its weights take 540 MB as float32, over 32 MB"
    monkeypatch.setattr(models, "load_llama", lambda: (None, why))
    at = page_test("concept", query={"source": "llama"}).run()
    assert not at.exception
    assert any("could not be loaded" in w.value and "540 MB" in w.value for w in at.warning)
    mh = page_test("multihead", query={"source": "llama"}).run()
    assert not mh.exception
    assert any("could not be loaded" in w.value and "540 MB" in w.value for w in mh.warning)
