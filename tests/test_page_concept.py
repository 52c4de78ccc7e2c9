"""AppTest for the home page and the Concept page (real model, widget changes)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import APP, page_test

ROOT = Path(__file__).resolve().parents[1]
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
    assert len(charts(concept)) >= 7  # illustrative, 3 views, 2 counterfactual, 2 patterns
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


def test_concept_pick_layer_and_head(concept):
    concept.radio(key="main_mode").set_value("Pick layer and head").run()
    concept.slider(key="main_layer").set_value(0).run()
    concept.slider(key="main_head").set_value(2).run()
    assert not concept.exception
    assert any("layer 0, head 2" in str(c.proto.spec) for c in charts(concept))


@pytest.mark.parametrize("text", ["", "   \n\t", "<script>alert(1)</script>" * 3, "ü" * 5000])
def test_concept_odd_text_keeps_working(text):
    at = page_test("concept", timeout=TIMEOUT).run()
    at.text_input(key="concept_text").set_value(text[:2000]).run()
    assert not at.exception
    if not text.strip():
        assert any("empty" in i.value for i in at.info)
