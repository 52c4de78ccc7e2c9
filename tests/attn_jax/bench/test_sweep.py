"""attn_jax.bench.sweep and sweep_methods: fits, guard rails, the sweep in a worker process."""

import threading
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from attn_jax.bench import decode as decode_bench
from attn_jax.bench import sweep as cx
from attn_jax.bench import sweep_methods as ck
from attn_jax.bench import window as window_bench
from attn_jax.bench import worker
from ui.figures import complexity as cf

CPU = jax.devices("cpu")[0]
NS = np.array([128, 256, 512, 1024, 2048])


def test_fit_slope_recovers_exact_powers():
    assert cx.fit_slope(NS, 3e-6 * NS**2.0) == pytest.approx(2.0, abs=1e-9)
    assert cx.fit_slope(NS, 5e-3 * NS) == pytest.approx(1.0, abs=1e-9)
    assert cx.fit_slope(NS, np.full(len(NS), 7.0)) == pytest.approx(0.0, abs=1e-9)


def test_fit_slope_ignores_nan_and_needs_two_lengths():
    t = 1e-6 * NS**2.0
    t_holes = np.where(NS == 512, np.nan, t)
    assert cx.fit_slope(NS, t_holes) == pytest.approx(2.0, abs=1e-9)
    assert np.isnan(cx.fit_slope([128, 128], [1.0, 2.0]))
    assert np.isnan(cx.fit_slope([128, 256], [1.0, np.nan]))


def test_slopes_per_method_skips_rows_not_ok():
    rows = [("attention", n, 1e-4 * n * n, "ok") for n in NS]
    rows += [("rnn_scan", n, 0.01 * n, "ok") for n in NS]
    rows += [("rnn_scan", 4096, 1e9, "skipped: time budget")]  # would spoil the fit
    table = pd.DataFrame(rows, columns=["method", "n", "median_ms", "status"])
    got = cx.slopes(table)
    assert got["attention"] == pytest.approx(2.0) and got["rnn_scan"] == pytest.approx(1.0)


def test_too_large_request_is_refused_with_a_message():
    with pytest.raises(cx.SweepTooLarge, match="MB") as info:
        cx.plan_sweep([1024, 2**20], ["memory_efficient"], 64, 128, "float32",
                      platform="cpu", budget_bytes=cx.CPU_BUDGET_BYTES)  # fmt: skip
    assert isinstance(info.value, ValueError)
    assert "n=1048576" in str(info.value)


@pytest.mark.parametrize(
    "lengths,methods",
    [([], ["attention"]), ([128], []), ([1], ["attention"]), ([128], ["flash"]),
     (list(range(2, 2 + cx.MAX_LENGTHS + 1)), ["attention"])],
)  # fmt: skip
def test_bad_requests_are_refused(lengths, methods):
    with pytest.raises(cx.SweepTooLarge):
        cx.plan_sweep(lengths, methods, 2, 4, "float32", platform="cpu", budget_bytes=2**30)


def test_plain_kernels_are_capped_on_cpu_but_not_on_a_big_gpu():
    kw = dict(heads=8, head_dim=64, dtype="float32")
    cpu = cx.plan_sweep([1024, 4096], list(ck.METHODS), **kw, platform="cpu",
                        budget_bytes=cx.CPU_BUDGET_BYTES)  # fmt: skip
    skipped = {(m, n) for m, n, _, skip in cpu if skip}
    assert skipped == {("attention", 4096), ("jax.nn", 4096)}  # 3·8·4096²·4 B = 1.5 GiB
    gpu = cx.plan_sweep([1024, 4096], list(ck.METHODS), **kw, platform="gpu", budget_bytes=2**36)
    assert all(skip is None for *_, skip in gpu)
    assert [n for _, n, _, _ in cpu] == [1024] * 5 + [4096] * 5  # n ascending


def test_busy_lock_refuses_a_second_sweep():
    assert cx.SWEEP_LOCK.acquire(blocking=False)
    try:
        with pytest.raises(cx.SweepBusy, match="try again"):
            cx.run_sweep([8], ["attention"], 1, 4, "float32", CPU)
    finally:
        cx.SWEEP_LOCK.release()


def test_lock_is_released_after_a_failed_sweep():
    def broken(*args):
        raise RuntimeError("device lost")

    with pytest.raises(RuntimeError):
        cx.run_sweep([8], ["attention"], 1, 4, "float32", CPU, measure=broken)
    assert not cx.SWEEP_LOCK.locked()


def test_busy_while_another_thread_sweeps():
    started, release, seen = threading.Event(), threading.Event(), []

    def slow(method, n, *args):
        started.set()
        release.wait(30)
        return cx._skipped_row(method, n, "ok")

    worker = threading.Thread(target=cx.run_sweep, args=([8], ["attention"], 1, 4, "float32", CPU),
                              kwargs={"measure": slow})  # fmt: skip
    worker.start()
    assert started.wait(30)
    try:
        cx.run_sweep([8], ["attention"], 1, 4, "float32", CPU)
    except cx.SweepBusy as exc:
        seen.append(str(exc))
    release.set()
    worker.join(30)
    assert seen == ["Another sweep is running on this server; try again in a moment."]


def test_time_budget_stops_the_sweep(monkeypatch):
    clock = iter(range(1000))  # every look at the clock: one more second
    monkeypatch.setattr(cx, "time", SimpleNamespace(perf_counter=lambda: float(next(clock))))
    calls, notes = [], []

    def fake(method, n, heads, head_dim, dtype, device, repeats):
        calls.append((method, n))
        return {**cx._skipped_row(method, n, "ok"), "median_ms": 1.0}

    table = cx.run_sweep([8, 16, 32, 64], ["attention"], 1, 4, "float32", CPU,
                         time_budget_s=2.5, measure=fake,
                         progress=lambda f, text: notes.append((f, text)))  # fmt: skip
    assert calls == [("attention", 8), ("attention", 16)]
    assert list(table["status"][2:]) == ["skipped: time budget of 2 s used up"] * 2
    assert notes[0][0] == 0.0 and notes[-1] == (1.0, "done")


def test_tiny_real_sweep_is_a_well_formed_table():
    table = cx.run_sweep([8, 24], list(ck.METHODS), 2, 4, "float32", CPU, repeats=1)
    assert list(table.columns) == cx.COLUMNS
    assert len(table) == 2 * len(ck.METHODS)
    assert set(table["method"]) == set(ck.METHODS) and set(table["n"]) == {8, 24}
    assert (table["status"] == "ok").all()
    assert (table["median_ms"] > 0).all() and (table["compile_ms"] > 0).all()
    assert (table["gflops"] > 0).all()
    assert list(table["bytes_scores"]) == [2 * n * n * 4 for n in table["n"]]
    assert not cx.SWEEP_LOCK.locked()


def test_bfloat16_point_is_measured():
    row = cx.measure_point("memory_efficient", 16, 2, 8, "bfloat16", CPU, repeats=1)
    assert row["status"] == "ok" and row["median_ms"] > 0


def test_rnn_scan_matches_a_python_loop():
    x, w_x, w_h = ck.make_inputs("rnn_scan", 5, 1, 3, "float32", CPU)
    h, want = np.zeros((1, 3), np.float32), []
    for t in range(5):
        h = np.tanh(np.asarray(x)[:, t] @ w_x + h @ w_h)
        want.append(h)
    got = ck.method_fn("rnn_scan")(x, w_x, w_h)
    np.testing.assert_allclose(got, np.stack(want, axis=1), atol=1e-5)


def test_conv1d_is_causal_and_width_4():
    x = jnp.zeros((1, 9, 2)).at[0, 4, 0].set(1.0)  # an impulse at t=4, channel 0
    w = jnp.ones((ck.CONV_WIDTH, 2, 2))
    out = np.asarray(ck.method_fn("conv1d")(x, w))[0, :, 0]
    np.testing.assert_allclose(out, [0, 0, 0, 0, 1, 1, 1, 1, 0])  # t = 4..7 see it


def test_flops_and_bytes_formulas():
    assert ck.flops("attention", 10, 3, 4) == 4 * 3 * 10 * 10 * 4
    assert ck.flops("rnn_scan", 10, 3, 4) == 4 * 10 * 12 * 12
    assert ck.scores_bytes(1000, 8, 2) == 8 * 1000 * 1000 * 2
    assert ck.peak_bytes("attention", 512, 8, 64, 4) > 3 * ck.scores_bytes(512, 8)
    assert ck.peak_bytes("memory_efficient", 4096, 8, 64, 4) < ck.scores_bytes(4096, 8)


def test_long_context_table_llama3_8b():
    table = cx.long_context_table("Llama 3 8B")  # 32 layers, 32 query heads
    assert list(table["tokens"]) == [4096, 32768, 131072, 1048576]
    # 32 heads · 4096² · 2 B = 1 GiB per layer in fp16
    assert table["fp16 per layer (GiB)"].iloc[0] == pytest.approx(1.0)
    assert table["fp32 per layer (GiB)"].iloc[1] == pytest.approx(128.0)
    assert table["fp16 all 32 layers (GiB)"].iloc[0] == pytest.approx(32.0)


def test_default_lengths_and_cpu_budget():
    assert cx.default_lengths("cpu") == [128, 256, 512, 1024, 2048, 4096]
    assert max(cx.default_lengths("gpu")) > 4096
    assert cx.memory_budget(CPU) == cx.CPU_BUDGET_BYTES


def test_slopes_are_fitted_on_the_upper_half_of_the_lengths():
    assert cx.upper_half([64, 128, 256, 512, 1024]) == [256, 512, 1024]
    assert cx.upper_half([16, 32, 64, 128]) == [64, 128]
    assert cx.upper_half([8, 16]) == [8, 16]
    # a fixed cost that rules small n: the upper half sees the n² term
    ns = np.array([64, 128, 256, 512, 1024, 2048])
    t = 5.0 + 1e-4 * ns**2.0
    table = pd.DataFrame({"method": "attention", "n": ns, "median_ms": t, "status": "ok"})
    assert cx.slopes(table)["attention"] > 1.8 > 1.3 > cx.slopes(table, upper=False)["attention"]


def test_device_labels_round_trip():
    assert cx.find_device(cx.device_label(CPU)) == CPU
    with pytest.raises(ValueError):
        cx.find_device("tpu:99 (none)")


def test_sweep_in_a_worker_process_returns_a_table():
    params = dict(lengths=[8, 16], methods=["attention", "conv1d"], heads=1, head_dim=4,
                  dtype="float32", device=cx.device_label(CPU), repeats=1)  # fmt: skip
    seen = []
    result = worker.run_task("sweep", params, timeout_s=120, progress=lambda f, t: seen.append(f))
    table = cx.table_from(result)
    assert list(table.columns) == cx.COLUMNS and (table["status"] == "ok").all()
    assert result["matmul_gflops"] > 0 and "UTC" in result["finished"]
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert not worker.LOCK.locked()


def test_worker_errors_and_timeouts_are_reported():
    with pytest.raises(worker.WorkerError) as info:
        worker.run_task("sweep", dict(lengths=[8], methods=["flash"], heads=1, head_dim=4,
                                      dtype="float32", device="cpu:0 (cpu)"))  # fmt: skip
    assert info.value.kind == "SweepTooLarge"
    with pytest.raises(worker.WorkerTimeout):
        worker.run_task("ring", dict(n=1024), timeout_s=0.5)
    assert worker.LOCK.acquire(blocking=False)
    try:
        with pytest.raises(worker.WorkerBusy):
            worker.run_task("ring", dict(n=1024))
    finally:
        worker.LOCK.release()


def test_forced_host_devices_env_keeps_other_flags(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_foo=1 --xla_force_host_platform_device_count=2")
    env = worker.forced_host_devices_env(8)
    assert env["XLA_FLAGS"] == "--xla_foo=1 --xla_force_host_platform_device_count=8"


def test_window_task_tiny():
    out = window_bench.window_task([64, 128], window=8, heads=1, head_dim=8, full_max_n=64,
                                   repeats=1)  # fmt: skip
    kinds = [(r["kind"], r["n"]) for r in out["rows"]]
    assert kinds == [("full", 64), ("window", 64), ("window", 128)]
    assert all(r["status"] == "ok" and r["median_ms"] > 0 for r in out["rows"])
    fig = cf.window_figure(out["rows"], out["slopes"], 8, fit_from=64)
    assert [t.name.split(" ·")[0] for t in fig.data] == ["full causal", "sliding window w = 8"]


def test_decode_task_tiny_and_its_figures():
    out = decode_bench.decode_task([64, 256], heads=4, head_dim=8, kv_heads=(4, 1),
                                   prefill_max_n=64, repeats=1, copy_mbytes=4)  # fmt: skip
    dec = [r for r in out["rows"] if r["kind"] == "decode"]
    assert [(r["kv_heads"], r["n"]) for r in dec] == [(4, 64), (1, 64), (4, 256), (1, 256)]
    assert dec[0]["bytes"] == 2 * 64 * 4 * 8 * 4 and all(r["gbps"] > 0 for r in dec)
    assert out["copy_gbps"] > 0
    assert len(cf.decode_time_figure(out["rows"]).data) == 3
    bw = cf.decode_bandwidth_figure(out["rows"], out["copy_gbps"])
    assert "copy" in bw.data[-1].name
    with pytest.raises(ValueError):
        decode_bench.decode_task([64], heads=4, kv_heads=(3,))
