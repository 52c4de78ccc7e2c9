"""attn_jax.lessons.induction_live: the copy model's recorded run, typed sequences, held-out
knock-outs and the worker's training task (with a tiny config)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from attn_jax.lessons import induction_live as il
from attn_jax.lessons.induction import evaluate_params
from attn_jax.models.decoder import load_decoder


@pytest.fixture(scope="module")
def model():
    return load_decoder(il.COPY_MODEL_DIR)


@pytest.fixture(scope="module")
def run():
    return il.recorded_run()


def test_dense_maps_fill_the_lower_triangle():
    weights = [[[[1.0], [0.25, 0.75]]]]  # [l][n][t][0..t]
    np.testing.assert_array_equal(il.dense_maps(weights)[0, 0], [[1.0, 0.0], [0.25, 0.75]])


def test_the_recorded_run_reads_the_shipped_log(run, model):
    record = json.loads((il.COPY_MODEL_DIR / "training_log.json").read_text())
    n_layer, n_head = model.config.n_layer, model.config.n_head
    assert run.shape == (n_layer, n_head)
    assert run.steps.tolist() == [h["step"] for h in record["heads"]]
    assert run.induction.shape == (len(run.steps), n_layer, n_head)
    t = len(run.probe_ids)
    assert run.maps.shape == (len(record["maps"]), n_layer, n_head, t, t)
    assert len(run.map_steps) >= 20 and run.map_steps[-1] == run.steps[-1]
    np.testing.assert_allclose(run.maps_at(run.map_steps[-1]).sum(-1), 1.0, atol=0.02)
    np.testing.assert_array_equal(np.triu(run.maps_at(0)[0, 0], 1), 0)
    assert np.isnan(run.loss[0]) and run.loss[-1] < run.loss[1]  # it learned
    # the probe is a copy row: the span repeats right after itself
    a, m = run.probe_start, run.probe_length
    np.testing.assert_array_equal(run.probe_ids[a : a + m], run.probe_ids[a + m : a + 2 * m])


def test_steps_snap_to_the_evaluation_or_snapshot_before(run):
    assert run.index_of(0) == 0 and run.index_of(10**9) == len(run.steps) - 1
    between = int(run.steps[3]) + 1
    assert run.steps[run.index_of(between)] == run.steps[3]
    np.testing.assert_array_equal(
        run.maps_at(int(run.map_steps[1]) + 1), run.maps_at(run.map_steps[1])
    )


def test_roles_and_the_cliff_come_from_the_run(run):
    prev, copying, shift = run.heads()
    assert prev[0] < run.shape[0] - 1 and copying[0] >= 1 and shift in (0, 1)
    scores = run.induction_next if shift else run.induction
    assert scores[-1][copying] >= 0.4 and run.previous_token[-1][prev] >= 0.4
    cliff = run.cliff()
    assert cliff is not None and run.copy_accuracy[run.index_of(cliff)] >= 0.5
    assert run.copy_accuracy[run.index_of(cliff) - 1] < 0.5


def test_symbols_become_ids_after_the_start_token(model):
    ids, unknown, cut = il.symbol_ids(model, "K 7 q ? K7")
    tokens = model.tokenizer.token_strings(ids)
    assert tokens == ["<|endoftext|>", "K", "7", "q", "<unk>", "K", "7"]
    assert unknown == ["?"] and not cut
    ids, _, cut = il.symbol_ids(model, " ".join(["a"] * 100))
    assert len(ids) == model.config.n_positions and cut


def test_a_typed_repeat_is_scored_from_its_second_symbol(model):
    ids, _, _ = il.symbol_ids(model, "x 3 K 7 q R K 7 q R w")
    typed = il.typed_run(model, ids)
    # positions: 0 BOS, 1 x, 2 3, 3 K, 4 7, 5 q, 6 R, 7 K, 8 7, 9 q, 10 R, 11 w
    assert typed.sources()[7:11].tolist() == [4, 5, 6, 7]
    assert np.flatnonzero(typed.scored).tolist() == [7, 8, 9]  # the copy's 2nd..4th symbol
    vocab = model.tokenizer.token_strings(range(model.config.vocab_size))
    assert [vocab[i] for i in typed.expected[7:10]] == ["7", "q", "R"]
    assert typed.attentions.shape == (2, model.config.n_head, 12, 12)
    assert typed.copy_accuracy == 1.0
    assert il.typed_run(model, il.symbol_ids(model, "a b c d")[0]).copy_accuracy is None


def test_knocking_out_the_copying_layer_breaks_the_copy(model, run):
    ids, _, _ = il.symbol_ids(model, "x 3 K 7 q R 2 m Z K 7 q R 2 m w")
    last = [(model.config.n_layer - 1, h) for h in range(model.config.n_head)]
    assert il.typed_run(model, ids).copy_accuracy >= 0.8
    assert il.typed_run(model, ids, last).copy_accuracy <= 0.4
    full = il.held_out(model)
    assert full.copy_accuracy >= 0.8
    assert il.held_out(model, last).copy_accuracy < 0.2


def test_held_out_rows_are_the_models_own_evaluation(model):
    ours = il.held_out(model, (), n_rows=64, seed=99)
    ref = evaluate_params(model.params, model.config, 62, n_rows=64, seed=99, batch=64)
    assert ours.copy_accuracy == pytest.approx(ref.copy_accuracy)
    np.testing.assert_allclose(ours.induction, ref.induction, atol=1e-5)


def test_the_knockout_sweep_finds_the_head_copying_reads_from(model):
    full, each = il.knockout_sweep(model, n_rows=64)
    assert each.shape == (model.config.n_layer, model.config.n_head)
    assert each.min() < full - 0.3  # some single head is part of the circuit
    assert 0.0 < il.chance(model) < 0.05


def test_choices_are_checked():
    assert il.check_choices("7", "0.003") == (7, 0.003)
    for seed, lr in [(-1, 3e-3), (1, 0.0), (1, 1.0), (2**40, 3e-3)]:
        with pytest.raises(ValueError):
            il.check_choices(seed, lr)


def test_the_train_task_reports_each_evaluation_and_returns_a_log(monkeypatch):
    from attn_jax.lessons import induction_training as it

    tiny = replace(
        it.TrainConfig(), n_symbols=4, n_embd=16, n_head=2, n_inner=16, n_ctx=13,
        batch_size=8, steps=20, warmup_steps=2, curriculum=(), eval_every=10, eval_rows=8,
        n_maps=2, probe_len=10, probe_span=4, dense_fraction=0.0,
    )  # fmt: skip
    monkeypatch.setattr(it, "QUICK", tiny, raising=False)
    seen = []
    result = il.train_task(5, 2e-3, lambda f, text, data: seen.append((f, text, data)))
    assert [f for f, _, _ in seen] == [0.0, 0.5, 1.0]
    assert seen[-1][1] == "step 20 of 20" and seen[0][2]["maps"] is not None
    assert seen[0][2]["probe"] == result["probe"]
    assert result["train_config"]["seed"] == 5 and result["train_config"]["learning_rate"] == 2e-3
    run = il.RecordedRun.from_log(json.loads(json.dumps(result)))  # it travels as JSON
    assert run.steps.tolist() == [0, 10, 20] and run.shape == (2, 2)
    assert 0.0 <= run.final["copy_accuracy"] <= 1.0
    with pytest.raises(ValueError):
        il.train_task(1, 5.0, lambda *a: None)
