"""scripts/train_induction.py with a tiny config: batches, a short run that lowers the loss,
the log's fields and a checkpoint that load_decoder reads."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import jax
import numpy as np
import pytest

from attn_jax.models.decoder import forward, load_decoder
from tests import helpers


@pytest.fixture(scope="module")
def ti():
    return helpers.load_script("train_induction")


@pytest.fixture(scope="module")
def tiny(ti):
    # 4 symbols: within 60 steps the model can at least learn never to predict the start
    # token or <unk> (uniform over 6 ids: 1.79 nats; over the 4 symbols: 1.39)
    return replace(
        ti.TrainConfig(),
        n_symbols=4,
        n_embd=32,
        n_head=2,
        n_inner=32,
        n_ctx=17,
        batch_size=16,
        steps=60,
        warmup_steps=5,
        curriculum=((30, 13),),
        copy_loss_only=False,  # every target counts: the loss falls within 60 steps
        dense_fraction=0.0,
        random_offsets=False,
        train_min_span=4,
        eval_rows=16,
        n_maps=3,
        probe_len=12,
        probe_span=4,
    )


@pytest.fixture(scope="module")
def trained(ti, tiny):
    return ti.train(tiny, say=lambda _: None)


def test_batches_follow_the_curriculum_and_shift_by_one(ti, tiny):
    rng = np.random.default_rng(0)
    x, y, w, offset = ti.sample_batch(rng, tiny, step=0)
    assert x.shape == y.shape == w.shape == (16, 13) and offset == 0
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    assert np.all(x[:, 0] == 0) and np.all(w == 1.0)
    x, _, _, _ = ti.sample_batch(rng, tiny, step=30)
    assert x.shape == (16, 17)
    _, _, w, _ = ti.sample_batch(rng, replace(tiny, copy_loss_only=True), step=30)
    assert 0 < w.mean() < 1 and set(np.unique(w)) == {0.0, 1.0}
    shifted = replace(tiny, random_offsets=True)
    offsets = {ti.sample_batch(rng, shifted, step=0)[3] for _ in range(40)}
    assert offsets == set(range(5))  # rows of 13 anywhere in the context of 17


def test_dense_rows_copy_span_after_span(ti):
    ids, copied = ti.dense_row(np.random.default_rng(0), 34, 62)
    assert ids.shape == (34,) and copied.shape == (33,) and ids[0] == 0
    targets = ids[1:][copied == 1.0]
    assert len(targets) >= 6
    for q in np.flatnonzero(copied):  # a copied target repeats the symbol m places back
        assert any(ids[q + 1] == ids[q + 1 - m] and ids[q] == ids[q - m] for m in range(4, 17))


def test_copied_targets_mark_the_predictable_positions(ti):
    from attn_jax.lessons.induction import CopyRows

    rows = CopyRows(np.zeros((1, 12), np.int32), np.array([2]), np.array([4]))
    w = ti.copied_targets(rows, 11)
    np.testing.assert_array_equal(np.flatnonzero(w[0]), [6, 7, 8])  # predict ids 7, 8, 9


def test_tokenizer_has_one_id_per_symbol(ti):
    tok = ti.copy_tokenizer(62)
    assert tok.get_vocab_size() == 64 and tok.token_to_id("<|endoftext|>") == 0
    ids = tok.encode("K 7 q R").ids
    assert len(ids) == 4 and [tok.id_to_token(i) for i in ids] == ["K", "7", "q", "R"]
    assert tok.encode("K7q").ids == ids[:3]
    assert tok.encode("K ?").ids[1] == tok.token_to_id("<unk>")


def test_short_run_lowers_the_loss_and_logs_every_head(trained, tiny):
    _, log = trained
    heads = log["heads"]
    assert [h["step"] for h in heads] == [0, 25, 50, 60]
    losses = [h["loss"] for h in heads[1:]]
    assert heads[0]["loss"] is None and losses[-1] < losses[0] - 0.1
    for h in heads:
        assert np.asarray(h["induction"]).shape == (2, 2)
        assert np.asarray(h["previous_token"]).shape == (2, 2)
        assert 0.0 <= h["copy_accuracy"] <= 1.0
    assert [m["step"] for m in log["maps"]] == [0, 25, 50, 60]
    weights = log["maps"][-1]["weights"]  # [L][N][t][0..t]
    assert len(weights) == 2 and len(weights[0]) == 2
    assert [len(r) for r in weights[0][0]] == list(range(1, 13))
    assert sum(weights[1][1][-1]) == pytest.approx(1.0, abs=0.01)


def test_checkpoint_loads_and_matches(ti, tiny, trained, tmp_path):
    params, log = trained
    ti.save(tmp_path, params, tiny, log, {"final": {"note": "test"}})
    dec = load_decoder(tmp_path)
    assert dec.config == tiny.model() and dec.max_tokens == 17
    ids, _ = dec.tokenizer.encode("0 1 2 3 0 1")
    assert ids == [1, 2, 3, 4, 1, 2]
    assert dec.tokenizer.token_strings(ids) == ["0", "1", "2", "3", "0", "1"]
    run = jax.jit(forward, static_argnames="cfg")
    expected = np.asarray(run(params, np.asarray(ids)[None], cfg=tiny.model())[0][0])
    np.testing.assert_allclose(dec.logits_of(ids), expected, atol=1e-4)
    record = json.loads((tmp_path / "training_log.json").read_text())
    assert record["train_config"]["n_ctx"] == 17 and record["final"]["note"] == "test"
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["model_type"] == "gpt2" and cfg["bos_token_id"] == 0


def test_attention_only_keeps_the_mlp_at_zero(trained, tiny):
    params, _ = trained
    assert tiny.attention_only
    for name in ("w_fc", "b_fc", "w_proj", "b_proj"):
        assert not np.any(np.asarray(params["layers"][name])), name


def test_split_residual_keeps_tokens_and_layer_0_apart(trained, tiny):
    """Tokens in the first half of the residual; positions and layer 0's output in the
    second; layer 1 reads its values from the first half (train_masks)."""
    params, _ = trained
    d, h = tiny.n_embd, tiny.n_embd // 2
    layers = {n: np.asarray(a) for n, a in params["layers"].items()}
    assert not np.any(np.asarray(params["wte"])[:, h:]) and np.all(np.asarray(params["wte"])[:, :h])
    assert not np.any(np.asarray(params["wpe"])[:, :h])
    assert not np.any(layers["w_o"][0][:, :h]) and np.any(layers["w_o"][1][:, :h])
    assert not np.any(layers["w_qkv"][1][h:, 2 * d :]) and np.all(layers["w_qkv"][0][h:, 2 * d :])


def test_quick_is_the_shipped_model_in_fewer_steps():
    from attn_jax.lessons import induction_training as it

    full = it.TrainConfig()
    assert it.QUICK.model() == full.model() and it.QUICK.steps < full.steps
    assert it.QUICK.n_ctx == 33 and it.QUICK.n_symbols == 62
    assert it.QUICK.attention_only and it.QUICK.split_residual
    assert it.probe_record(it.probe_row(it.QUICK)) == it.probe_record(it.probe_row(full))
    assert len(it.map_steps(it.QUICK)) >= 20 and it.QUICK.steps % it.QUICK.eval_every == 0


def test_lean_xla_flags_are_added_once(monkeypatch):
    from attn_jax.lessons import induction_training as it

    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=1")
    it.use_lean_xla_flags()
    it.use_lean_xla_flags()
    flags = os.environ["XLA_FLAGS"].split()
    assert flags == ["--xla_force_host_platform_device_count=1", it.LEAN_XLA_FLAGS]
