"""attn_jax.bench.worker's protocol: progress lines with partial data, and the copy model's
training task registered (its checks run in the worker)."""

from __future__ import annotations

import io
import json
import time

import pytest

from attn_jax.bench import worker


class _FakeProcess:
    def __init__(self, lines: list[dict]):
        self.stdout = io.StringIO("".join(json.dumps(m) + "\n" for m in lines) + "not json\n")

    def kill(self):
        pass

    def wait(self):
        return 0


def test_progress_lines_carry_their_data_to_on_data():
    lines = [
        {"progress": 0.0, "text": "step 0"},
        {"progress": 0.5, "text": "step 5", "data": {"entry": {"step": 5}}},
        {"result": {"done": True}},
    ]
    seen, data = [], []
    final = worker._read(
        _FakeProcess(lines), lambda f, t: seen.append((f, t)), data.append, time.monotonic() + 9
    )
    assert final == {"result": {"done": True}}
    assert seen == [(0.0, "step 0"), (0.5, "step 5")] and data == [{"entry": {"step": 5}}]


def test_the_copy_model_task_checks_its_choices_in_the_worker():
    assert worker.TASKS["copy_model"] == "attn_jax.lessons.induction_live:train_task"
    with pytest.raises(worker.WorkerError) as info:
        worker.run_task("copy_model", {"seed": 1, "learning_rate": 5.0}, timeout_s=120)
    assert info.value.kind == "ValueError" and "learning rate" in str(info.value)
    assert not worker.LOCK.locked()
