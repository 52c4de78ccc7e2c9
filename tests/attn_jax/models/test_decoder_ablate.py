"""Head knock-out in the GPT-2 decoder (`ablate=[(layer, head), ...]`): transformers' golden
values with the heads' slices of `attn.c_proj`'s input zeroed by a pre-hook
(scripts/make_decoder_reference.py), the plain pass unchanged, one compile per bucket, and
clear errors for bad pairs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jax
import numpy as np
import pytest

from attn_jax.bench.model import count_compiles
from attn_jax.models import block
from attn_jax.models.decoder import forward

REFERENCE = Path(__file__).resolve().parents[2] / "data" / "decoder_ablate_reference.npz"


@pytest.fixture(scope="module")
def reference(decoder):
    data = np.load(REFERENCE)
    meta = json.loads(str(data["meta"]))
    digest = hashlib.sha256((decoder.path / "model.safetensors").read_bytes()).hexdigest()
    assert digest == meta["model_sha256"], (
        "the shipped checkpoint changed: regenerate the reference with "
        "scripts/make_decoder_reference.py"
    )
    return data, meta


def _sets(data, meta):
    return [[tuple(p) for p in data[f"pairs_{i}"].tolist()] for i in range(meta["n_sets"])]


def test_matches_transformers_with_heads_knocked_out(decoder, reference):
    data, meta = reference
    ids, sample = data["ids"], data["vocab_sample"]
    np.testing.assert_array_equal(decoder.tokenizer.encode(meta["text"])[0], ids)
    sets = _sets(data, meta)
    assert sets[0] == [] and len(sets) >= 4  # the plain pass, then the knock-outs
    for i, pairs in enumerate(sets):
        logits = decoder.logits_of(ids, ablate=pairs)
        att = decoder.attentions_of(ids, ablate=pairs)
        assert att.shape == data[f"att_{i}"].shape
        assert float(np.max(np.abs(att - data[f"att_{i}"]))) <= 1e-4, pairs
        assert float(np.max(np.abs(logits[:, sample] - data[f"logits_{i}"]))) <= 1e-4, pairs
        assert float(np.max(np.abs(logits[-1] - data[f"last_logits_{i}"]))) <= 1e-4, pairs
    for i in range(1, len(sets)):  # each knock-out matters, and only after its first layer
        assert np.abs(data[f"logits_{i}"] - data["logits_0"]).max() > 1e-2


def test_no_knock_out_is_the_plain_pass_exactly(decoder, reference):
    data, meta = reference
    ids = data["ids"]
    logits, att = decoder.logits_of(ids), decoder.attentions_of(ids)
    for none in (None, (), []):
        np.testing.assert_array_equal(decoder.logits_of(ids, ablate=none), logits)
        np.testing.assert_array_equal(decoder.attentions_of(ids, ablate=none), att)
    # the compiled pass with a mask of ones equals forward without any mask, bit for bit
    t, padded = len(ids), np.zeros(decoder.bucket_for(len(ids)), np.int32)
    padded[:t] = ids
    with jax.default_matmul_precision("highest"):  # as the compiled buckets run
        plain = jax.jit(lambda p, x: forward(p, x, decoder.config)[:2])(
            decoder.params, padded[None]
        )
    np.testing.assert_array_equal(np.asarray(plain[0][0, :t]), logits)
    np.testing.assert_array_equal(np.asarray(plain[1][:, 0, :, :t, :t]), att)
    out, again = decoder.run(meta["text"]), decoder.run(meta["text"], ablate=())
    np.testing.assert_array_equal(out.top_next_probs, again.top_next_probs)


def test_knock_out_equals_zeroed_output_rows(decoder, reference):
    """Zeroing head n's input slice of W_O = zeroing W_O's rows n·H:(n+1)·H (b_O stays)."""
    ids, h = reference[0]["ids"], decoder.config.head_dim
    pairs = [(0, 3), (2, 1), (2, 2)]
    w_o = np.array(decoder.params["layers"]["w_o"])  # [L,D,D]
    for layer, head in pairs:
        w_o[layer, head * h : (head + 1) * h] = 0.0
    params = {**decoder.params, "layers": {**decoder.params["layers"], "w_o": w_o}}
    with jax.default_matmul_precision("highest"):
        zeroed = jax.jit(lambda p, x: forward(p, x, decoder.config)[0])(params, ids[None])[0]
    np.testing.assert_allclose(decoder.logits_of(ids, ablate=pairs), zeroed, atol=1e-5)
    att = decoder.attentions_of(ids, ablate=pairs)
    np.testing.assert_array_equal(att[:1], decoder.attentions_of(ids)[:1])  # upstream: same


def test_knock_out_does_not_recompile(decoder, reference):
    data, meta = reference
    ids = data["ids"]
    decoder.logits_of(ids), decoder.attentions_of(ids)  # this bucket's passes compiled
    with count_compiles() as seen:
        for pairs in [*_sets(data, meta), [(3, 3)], [(0, 0), (1, 1), (2, 2), (3, 3)]]:
            decoder.logits_of(ids, ablate=pairs)
            decoder.attentions_of(ids, ablate=pairs)
            decoder.predictions(meta["text"], k=3, ablate=pairs)
    assert seen[0] == 0


@pytest.mark.parametrize(
    ("ablate", "match"),
    [
        ([(4, 0)], r"layer 4 is outside 0\.\.3"),
        ([(0, 4)], r"head 4 is outside 0\.\.3"),
        ([(-1, 0)], r"layer -1 is outside"),
        ((0, 1), r"pairs of ints, e\.g\. \[\(0, 1\)\]: 0"),
        ([(0,)], "pairs"),
        ([(0, 1, 2)], "pairs"),
        ([(0.0, 1)], "pairs"),
        ([(True, 0)], "pairs"),
        ("01", "list of"),
        (3, "list of"),
    ],
)
def test_bad_ablate_raises(decoder, ablate, match):
    ids = np.arange(5)
    for call in (decoder.logits_of, decoder.attentions_of):
        with pytest.raises(ValueError, match=match):
            call(ids, ablate=ablate)
    with pytest.raises(ValueError, match=match):
        decoder.run("x", ablate=ablate)


def test_head_mask():
    keep = block.head_mask([(0, 1), (2, 0), (0, 1), np.array([1, 2]), (np.int64(2), 2)], 3, 3)
    expected = np.ones((3, 3), np.float32)
    expected[[0, 2, 1, 2], [1, 0, 2, 2]] = 0.0
    assert keep.dtype == np.float32
    np.testing.assert_array_equal(keep, expected)
    np.testing.assert_array_equal(block.head_mask(None, 2, 5), np.ones((2, 5), np.float32))
    np.testing.assert_array_equal(block.head_mask(iter([]), 2, 5), np.ones((2, 5)))
