"""AppTest of the Concept page's copy-model section (ui/views/copy_model.py): the recorded
run and its step slider, a typed sequence with heads knocked out, and "train one now" with
the worker replaced by a fake (the real worker is tested in tests/attn_jax)."""

from __future__ import annotations

import json

import pytest

from attn_jax.bench import worker
from attn_jax.lessons import induction_live as il
from tests.apptest import page_test, rerun


def keys(at) -> list[str]:
    return [c.key for c in at.get("plotly_chart")]


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_recorded_run_opens_at_its_last_step_and_the_slider_moves_it():
    at = rerun(page_test("concept"))
    assert {"copy_curves", "copy_probe_prev", "copy_probe_copy"} <= set(keys(at))
    run = il.recorded_run()
    slider = at.select_slider(key="copy_step")
    assert slider.value == int(run.map_steps[-1])
    assert metrics(at)["step"] == f"{int(run.steps[-1]):,}"
    early = int(run.map_steps[2])
    slider.set_value(early)
    rerun(at)
    assert metrics(at)["step"] == f"{int(run.steps[run.index_of(early)]):,}"
    assert dict(at.query_params)["step"] == str(early)
    accuracy = float(metrics(at)["held-out copy accuracy"].rstrip("%"))
    assert accuracy < run.copy_accuracy[-1] * 100  # not yet formed


def test_a_shared_step_snaps_to_the_nearest_snapshot():
    run = il.recorded_run()
    at = rerun(page_test("concept", query={"copy": "run", "step": str(int(run.map_steps[1]) + 3)}))
    assert at.select_slider(key="copy_step").value == int(run.map_steps[1])
    assert not at.warning


def test_typed_symbols_are_copied_until_the_copying_heads_are_knocked_out():
    at = rerun(page_test("concept", query={"copy": "try"}))
    assert {"copy_typed_map", "copy_knockout_map"} <= set(keys(at))
    assert metrics(at)["copy accuracy on your symbols"] == "100%"
    last = [(1, h) for h in range(4)]
    at.multiselect(key="copy_ablate").set_value(last)
    rerun(at)
    assert float(metrics(at)["copy accuracy on your symbols"].rstrip("%")) <= 40
    assert float(metrics(at)[f"on {il.HELD_OUT_ROWS} held-out rows"].rstrip("%")) < 20
    assert dict(at.query_params)["copy_ablate"] == "1.0,1.1,1.2,1.3"
    table = at.dataframe[-1].value
    assert "with heads knocked out" in table.columns and table["scored"].eq("✓").sum() >= 4


@pytest.mark.parametrize("text", ["", "<b>x</b> $y$ **z**", "🙂 " * 80])
def test_odd_symbols_get_a_notice_and_stay_text(text):
    at = rerun(page_test("concept", query={"copy": "try"}))
    at.text_input(key="copy_symbols").set_value(text)
    rerun(at)
    assert not at.warning
    shown = "\n".join(i.value for i in at.info)
    assert "<b>" not in shown and "$y$" not in shown
    if not text:
        assert "Type a few symbols" in shown


def own_run(at) -> list[str]:
    return [s.value for s in at.success if s.value.startswith("Your run")]


def _fake_task(task, params, *, progress=None, on_data=None, **_):
    assert task == "copy_model" and params == {"seed": 3, "learning_rate": 5e-3}
    record = json.loads((il.COPY_MODEL_DIR / "training_log.json").read_text())
    for entry, snap in zip(record["heads"][:3], record["maps"][:3], strict=True):
        progress(entry["step"] / 100, f"step {entry['step']}")
        on_data({"entry": entry, "maps": snap, "probe": record["probe"]})
    return {**record, "final": {**record["final"], "rows": 256}}


def test_train_one_now_shows_the_visitors_run(monkeypatch):
    monkeypatch.setattr(worker, "run_task", _fake_task)
    at = rerun(page_test("concept", query={"copy": "train"}))
    assert not own_run(at)
    at.number_input(key="copy_seed").set_value(3)
    at.select_slider(key="copy_lr").set_value(5e-3)
    next(b for b in at.button if b.label == "Train a copy model now").click()
    rerun(at)
    assert "Your run (seed 3, learning rate 0.005)" in own_run(at)[0]
    assert {"copy_own_curves", "copy_own_probe_prev", "copy_own_probe_copy"} <= set(keys(at))
    rerun(at)  # the run stays for this visitor
    assert own_run(at) and "copy_own_curves" in keys(at)


def test_a_second_trainer_is_told_the_server_is_busy(monkeypatch):
    def busy(*_, **__):
        raise worker.WorkerBusy("busy")

    monkeypatch.setattr(worker, "run_task", busy)
    at = rerun(page_test("concept", query={"copy": "train"}))
    next(b for b in at.button if b.label == "Train a copy model now").click()
    rerun(at)
    assert any(i.value.startswith("Busy: another visitor is training") for i in at.info)
    assert not own_run(at)
