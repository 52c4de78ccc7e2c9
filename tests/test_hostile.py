"""Arbitrary text through the encoder and every helper that takes text: no exception, bounded
work, and no NaN on its way to a chart."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from attn_jax import attention_weights
from attn_jax.lessons import explore
from attn_jax.lessons.heads import head_stats
from attn_jax.lessons.inputs import sentence_vectors
from ui.app import url_params as up
from ui.app.content import MAX_CHARS
from ui.app.inputs import clean_text
from ui.figures import base as figures
from ui.views.multihead import PARAMS as MULTIHEAD_PARAMS

ODD = [
    "",
    " ",
    "\n\t\r",
    "\x00\x01\x1f\x7f",
    "<b id=probe>x</b>",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "café naïve Ångström",
    "注意力就是你所需要的一切",
    "🦊🤖👩‍👩‍👧‍👦🏳️‍🌈",
    "مرحبا بالعالم שלום",
    "a" * 10_000,
    "word " * 2_000,
    "\u202e\u200b\ufeff",
    "[CLS] [SEP] [MASK] [PAD]",
]
texts = st.one_of(
    st.sampled_from(ODD),
    st.text(max_size=300),
    st.text(st.characters(codec="utf-8"), min_size=1000, max_size=10_000),
)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
# Through a model: every odd text above explicitly, then fewer generated ones (each example
# runs the encoder, up to 256 pieces, and its head statistics).
THROUGH_A_MODEL = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def every_odd_text(test):
    """@example for each of ODD."""
    for text in ODD:
        test = example(text=text)(test)
    return test


def _check_output(out) -> None:
    t = len(out.tokens)
    assert 2 <= t <= 256
    assert out.tokens[0] == "[CLS]" and out.tokens[-1] == "[SEP]"
    assert out.attentions.shape == (6, 12, t, t)
    assert np.isfinite(out.attentions).all()
    np.testing.assert_allclose(out.attentions.sum(-1), 1.0, atol=1e-4)


@THROUGH_A_MODEL
@given(text=texts)
@every_odd_text
def test_encoder_takes_any_text(encoder, text):
    out = encoder.run(text)
    _check_output(out)
    q = explore.default_query(out.tokens)
    explore.default_target(out.attentions, out.tokens, q)
    found = explore.pattern_heads(out.attentions, out.tokens)
    assert all(np.isfinite(p.score) for p in found)
    stats = head_stats(out.attentions, out.tokens)
    assert all(np.isfinite(v).all() for k, v in stats.items() if k not in ("prev", "next"))


@FAST
@given(text=st.one_of(texts, st.none()))
def test_clean_text_bounds_and_explains(text):
    cleaned, notice = clean_text(text)
    assert len(cleaned) <= MAX_CHARS
    assert "\x00" not in cleaned
    if not (text or "").replace("\x00", "").strip():
        assert cleaned == "" and notice


@THROUGH_A_MODEL
@given(text=texts)
@every_odd_text
def test_math_page_vectors_take_any_text(encoder, text):
    for enc in (encoder, None):
        vecs = sentence_vectors(text, enc)
        assert 1 <= len(vecs.tokens) <= 16
        assert np.isfinite(vecs.x).all()


garbage = st.dictionaries(
    st.sampled_from(["text", "text2", "pins", "stat", "view", "source", "x", ""]),
    st.one_of(st.text(max_size=3000), st.lists(st.text(max_size=50), max_size=4)),
)


@FAST
@given(params=garbage)
def test_url_parsing_never_raises(params):
    parsed = up.parse(params, MULTIHEAD_PARAMS)
    view = parsed.values
    assert len(view["pins"]) <= 4  # an empty "pins" means none pinned
    assert all(0 <= layer < 12 and 0 <= head < 16 for layer, head in view["pins"])
    assert view["text"].strip() and len(view["text"]) <= 2000
    assert all("](" not in n and "<" not in n for n in parsed.notices)


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16])
def test_no_nan_reaches_a_chart(dtype):
    rng = np.random.default_rng(0)
    q = jnp.asarray(rng.normal(size=(1, 4, 2, 8)) * 300, dtype)  # extreme logits
    k = jnp.asarray(rng.normal(size=(1, 4, 2, 8)) * 300, dtype)
    mask = np.ones((1, 1, 4, 4), bool)
    mask[..., 2, :] = False  # a fully masked row
    w = np.asarray(attention_weights(q, k, mask=mask))
    assert np.isfinite(w).all()
    fig = figures.heatmap(w[0, 0], list("abcd"), list("abcd"))
    assert not np.isnan(np.asarray(fig.data[0].z, float)).any()
