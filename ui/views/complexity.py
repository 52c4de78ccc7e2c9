"""The Complexity page's sections: the O(n²) cost of attention measured on the visitor's
device (a sweep of lengths and kernels, in a short-lived worker process), sliding windows,
prefill vs decode over a KV cache, ring attention over several devices, and the memory of
long contexts in real models.

URL keys: view (the open tab), device, heads, head_dim, dtype, n (lengths), methods,
repeats, budget, window, ring_n, causal, model.
"""

from __future__ import annotations

import time

import jax
import streamlit as st

from attn_jax.bench import sweep as cx
from attn_jax.bench import sweep_methods as ck
from attn_jax.bench import worker
from attn_jax.kernels.memory_efficient import working_set_bytes
from ui.app import url_params as up
from ui.app import url_state
from ui.app.charts import chart
from ui.app.text import md_escape
from ui.app.work_queue import TURNS
from ui.figures import complexity as cf

LENGTH_OPTIONS = [2**i for i in range(4, 17)]  # 16 .. 65536
# measured once per server so the page opens with curves; small enough for a few seconds
FIRST_PAINT = dict(lengths=[64, 128, 256, 512, 1024], methods=["attention", "memory_efficient",
                   "conv1d"], heads=4, head_dim=32, dtype="float32", repeats=3)  # fmt: skip
VIEWS = ["Sweep", "Sliding window", "Prefill vs decode", "Past one device", "Long context"]
WINDOWS = [64, 128, 256, 512, 1024]
WINDOW_LENGTHS = [1024, 2048, 4096, 8192, 16384]
DECODE_LENGTHS = [1024, 4096, 16384, 65536]
RING_LENGTHS = [1024, 2048, 4096, 8192]
RING_DEVICES = 8
RETRY_FIRST_PAINT_S = 300.0


@st.cache_resource
def devices() -> dict:
    """label -> jax.Device, for every device JAX sees (CPU always)."""
    found = {cx.device_label(d): d for d in jax.devices()}
    for d in jax.devices("cpu"):
        found.setdefault(cx.device_label(d), d)
    return found


def params() -> list[up.Param]:
    """The page's URL keys (the device and lengths default to the first device's)."""
    default_device = next(iter(devices()))
    default_lengths = cx.default_lengths(devices()[default_device].platform)
    return [
        up.choice("view", VIEWS[0], VIEWS, state_key="cx_view"),
        up.choice("device", default_device, list(devices()), state_key="cx_device"),
        up.choice("heads", 8, [1, 2, 4, 8, 12, 16], state_key="cx_heads"),
        up.choice("head_dim", 64, [16, 32, 64, 128], state_key="cx_head_dim"),
        up.choice("dtype", "float32", list(ck.DTYPES), state_key="cx_dtype"),
        up.choices("n", default_lengths, LENGTH_OPTIONS, state_key="cx_lengths"),
        up.choices("methods", list(ck.METHODS), list(ck.METHODS), state_key="cx_methods"),
        up.integer("repeats", 3, 1, 7, state_key="cx_repeats"),
        up.integer("budget", 60, 5, 180, state_key="cx_budget"),
        up.choice("window", 256, WINDOWS, state_key="cx_window"),
        up.choice("ring_n", 4096, RING_LENGTHS, state_key="cx_ring_n"),
        up.flag("causal", True, state_key="cx_ring_causal"),
        up.choice("model", list(cx.MODELS)[6], list(cx.MODELS), state_key="cx_model"),
    ]


@st.cache_resource(show_spinner="Measuring a small sweep once for this server …")
def _first_paint() -> dict:
    """The small sweep every visitor sees first, run in a worker process once per server."""
    params = {**FIRST_PAINT, "device": next(iter(devices())), "time_budget_s": 60.0}
    return worker.run_task("sweep", params, timeout_s=150, exclusive=False)


@st.cache_resource
def _first_paint_failed() -> dict:
    """When the first-paint sweep last failed (server-wide): retry only after a while."""
    return {"at": float("-inf")}


@st.cache_data(show_spinner=False, max_entries=32)
def _measured(task: str, params: dict, timeout_s: float, forced_devices: int = 0, _bar=None):
    """A worker's result for these settings (cached: the same settings are measured once)."""
    env = worker.forced_host_devices_env(forced_devices) if forced_devices else None
    progress = (lambda f, text: _bar.progress(min(f, 1.0), text=text)) if _bar else None
    return worker.run_task(task, params, timeout_s=timeout_s, progress=progress, env=env)


def _run(task: str, params: dict, timeout_s: float, forced_devices: int = 0):
    """Run a measurement with a progress bar; errors become messages. Returns None on error."""
    bar = st.progress(0.0, text="starting a worker process …")
    try:
        with TURNS.released():  # other visitors' pages go on while a worker measures
            return _measured(task, params, timeout_s, forced_devices, _bar=bar)
    except worker.WorkerBusy as exc:
        st.warning(f"Busy: {exc}", icon=":material/hourglass_top:")
    except worker.WorkerTimeout as exc:
        st.warning(f"Stopped: {exc}.", icon=":material/timer:")
    except worker.WorkerError as exc:
        st.error(f"The measurement failed ({exc.kind}): {md_escape(exc)}", icon=":material/block:")
    finally:
        bar.empty()
    return None


def measured(
    label: str,
    task: str,
    params: dict,
    timeout_s: float,
    *,
    key: str,
    hint: str | None = None,
    forced_devices: int = 0,
) -> dict | None:
    """A button that runs `task` in a worker and keeps its result for this visitor: returns
    the last result (None before the first run, with `hint` shown when given)."""
    if (
        st.button(label, type="primary", key=f"{key}_run")
        and (result := _run(task, params, timeout_s, forced_devices)) is not None
    ):
        st.session_state[f"{key}_result"] = result
    result = st.session_state.get(f"{key}_result")
    if result is None and hint:
        st.info(f"Press **{label}** ({hint}).", icon=":material/play_arrow:")
    return result


def _sweep_charts(table, mm_gflops, heads, head_dim) -> None:
    chart(cf.time_figure(table, cx.slopes(table), fit_from=cx.upper_half(table["n"])[0]))
    st.caption(
        "On log-log axes a cost ~ nᵏ is a line of slope k: about 2 for attention, about 1 for "
        "the linear references. Small n is dominated by fixed costs (dispatch, loop set-up), "
        "which flatten every line, so each slope is fitted on the upper half of the lengths."
    )
    ns = sorted(set(table["n"]))
    scores = [ck.scores_bytes(n, heads, 4) for n in ns]
    working = [working_set_bytes(n, heads, head_dim) for n in ns]
    chart(cf.memory_figure(ns, scores, working))
    st.caption(
        f"For {heads} heads of dim {head_dim} in float32. The plain kernels hold about three "
        "such matrices at once (logits, their exponentials, the weights); the memory-efficient "
        "kernel holds q, k, v, the output, their copies and one block of scores: it grows like n."
    )
    chart(cf.gflops_figure(table, mm_gflops))


@st.fragment
def sweep_section() -> None:
    st.markdown(
        "Every token attends to every other token, so attention builds an **n × n** matrix of "
        "scores per head: double the sequence and the work and the memory grow **four times**. "
        "Time it on a real JAX device next to a memory-efficient kernel (same result, computed "
        "in blocks with a running softmax, never holding n × n) and two models whose cost grows "
        "only linearly: an RNN (one step per token) and a 1-D convolution."
    )
    c1, c2, c3, c4 = st.columns(4)
    device = c1.selectbox("Device", list(devices()), key="cx_device", persist_state="page")
    heads = c2.select_slider("Heads N", [1, 2, 4, 8, 12, 16], key="cx_heads", persist_state="page")
    head_dim = c3.select_slider("Head dim H", [16, 32, 64, 128], key="cx_head_dim",
                                persist_state="page")  # fmt: skip
    dtype = c4.selectbox("dtype", list(ck.DTYPES), key="cx_dtype", persist_state="page")
    lengths = st.multiselect("Sequence lengths n", LENGTH_OPTIONS, key="cx_lengths",
                             persist_state="page")  # fmt: skip
    methods = st.multiselect("Methods", list(ck.METHODS), key="cx_methods", persist_state="page",
                             format_func=lambda m: cf.LABELS[m])  # fmt: skip
    c1, c2 = st.columns(2)
    repeats = c1.slider("Repeats (median of)", 1, 7, key="cx_repeats", persist_state="page")
    budget = c2.slider("Time budget (s)", 5, 180, key="cx_budget", persist_state="page")
    if devices()[device].platform == "cpu":
        st.info(
            "On CPU the plain kernels are skipped where the scores matrix and its copies would "
            f"pass {cx.CPU_QUADRATIC_CAP_BYTES // 2**20} MB (about n = 1024 with 8 heads). Each "
            "sweep runs in its own short-lived process, stopped at the time budget, so its "
            "memory leaves with it (the server may have only ~690 MB).",
            icon=":material/shield:",
        )
    settings = dict(lengths=sorted(lengths), methods=list(methods), heads=heads,
                    head_dim=head_dim, dtype=dtype, device=device, repeats=repeats)  # fmt: skip
    if st.button("Run the sweep", type="primary", key="cx_run"):
        try:
            cx.plan_sweep(lengths, methods, heads, head_dim, dtype,
                          platform=devices()[device].platform,
                          budget_bytes=cx.memory_budget(devices()[device]))  # fmt: skip
            result = _run("sweep", {**settings, "time_budget_s": float(budget)}, budget + 90)
            if result is not None:
                st.session_state["cx_result"] = (settings, result)
        except cx.SweepTooLarge as exc:
            st.error(f"Too large for this device: {md_escape(exc)}", icon=":material/block:")
    _show_sweep(settings)
    url_state.sync_url()


def _show_sweep(settings: dict) -> None:
    ran, result = st.session_state.get("cx_result", (None, None))
    if result is None:
        failed = _first_paint_failed()
        if time.monotonic() - failed["at"] < RETRY_FIRST_PAINT_S:
            st.info("Press **Run the sweep** to measure (the first sweep failed a moment ago).")
            return
        try:
            with TURNS.released():  # the first visitor's sweep: the others wait without a turn
                result = _first_paint()
            ran = {**FIRST_PAINT}
        except (worker.WorkerError, worker.WorkerTimeout) as exc:
            failed["at"] = time.monotonic()
            st.info(f"Press **Run the sweep** to measure ({md_escape(exc)}).")
            return
        st.info(
            f"Measured once for this server on {md_escape(result['device'])} at "
            f"{result['finished']}: n = 64 … 1024, {ran['heads']} heads of dim "
            f"{ran['head_dim']}. **Run the sweep** measures your own settings.",
            icon=":material/history:",
        )
    elif ran != settings:
        st.caption("Showing the last sweep; the settings above have changed since.")
    table = cx.table_from(result)
    if table["status"].str.contains("time budget").any():
        st.warning(
            "The time budget ran out: the longest lengths were not timed.", icon=":material/timer:"
        )
    _sweep_charts(table, result["matmul_gflops"], ran["heads"], ran["head_dim"])
    st.dataframe(table, width="stretch", hide_index=True)
    st.download_button(
        "Download the table (CSV)", table.to_csv(index=False), "attention_sweep.csv",
        mime="text/csv", key="cx_csv",
    )  # fmt: skip


@st.fragment
def window_section() -> None:
    st.markdown(
        "A **sliding window** lets query *i* see only the keys *i − w … i* (Mistral 7B: "
        "w = 4,096; Longformer adds a few global tokens). The memory-efficient kernel then "
        "skips every block of keys outside the band, so its time grows like **n·w**, not n²: "
        "`memory_efficient_attention(q, k, v, is_causal=True, local_window_size=(w, 0))`. "
        "Information still travels further than w, one window per layer."
    )
    window = st.select_slider("Window w (keys looked back)", WINDOWS, key="cx_window",
                              persist_state="page")  # fmt: skip
    params = dict(lengths=WINDOW_LENGTHS, window=window, heads=4, head_dim=64,
                  full_max_n=4096, repeats=2, time_budget_s=60.0)  # fmt: skip
    result = measured("Measure window vs full", "window", params, 150, key="cx_window",
                      hint="about half a minute")  # fmt: skip
    if result is not None:
        fit = cx.upper_half([r["n"] for r in result["rows"] if r["kind"] == "window"])[0]
        chart(cf.window_figure(result["rows"], result["slopes"], result["window"], fit_from=fit))
        st.caption(
            f"Causal attention, 4 heads of dim 64, float32, on {md_escape(result['device'])}; "
            "full attention only up to n = 4,096 (beyond, its n² time takes too long here)."
        )
    url_state.sync_url()


@st.fragment
def decode_section() -> None:
    st.markdown(
        "A language model reads the prompt once (**prefill**: T = S = n, all queries at once, "
        "bounded by arithmetic) and then generates one token per step (**decode**: T = 1 over a "
        "KV cache of S = n): each step does little arithmetic but reads every cached key and "
        "value, so it is bounded by **memory bandwidth**. Fewer K/V heads (GQA, MQA) read "
        "fewer bytes."
    )
    params = dict(lengths=DECODE_LENGTHS, heads=8, head_dim=64, kv_heads=[8, 2, 1],
                  prefill_max_n=4096, repeats=3, copy_mbytes=64)  # fmt: skip
    result = measured("Measure prefill and decode", "decode", params, 150, key="cx_decode",
                      hint="about half a minute")  # fmt: skip
    if result is None:
        return
    c1, c2 = st.columns(2)
    with c1:
        chart(cf.decode_time_figure(result["rows"]))
    with c2:
        chart(cf.decode_bandwidth_figure(result["rows"], result["copy_gbps"]))
    st.caption(
        f"8 query heads of dim 64, float32, on {md_escape(result['device'])}. Bandwidth = bytes "
        "of K and V read per step / step time; the dashed line is an in-place copy over 64 MB "
        "measured in the same run (bytes read + written / time). Small caches fit in the CPU's "
        "caches and can beat it; prefill per token is far cheaper: its queries share each read."
    )


@st.fragment
def ring_section() -> None:
    st.markdown(
        "When one sequence no longer fits on one accelerator, split it: **ring attention** "
        "(Liu et al. 2023) gives each of P devices n/P queries and n/P keys and values. At each "
        "of P steps every device folds the key/value block it holds into its queries' running "
        "softmax, then passes the block to the next device (`jax.lax.ppermute`). No device "
        "ever holds all the keys or any n × n matrix, and the result is exact. Written with "
        "`jax.shard_map` over a `jax.sharding.Mesh`: the same code runs on several GPUs, a "
        "TPU slice, or several hosts after `jax.distributed.initialize()`."
    )
    chart(cf.ring_steps_figure(4))
    c1, c2 = st.columns(2)
    n = c1.select_slider("Sequence length n", RING_LENGTHS, key="cx_ring_n", persist_state="page")
    causal = c2.toggle("Causal", key="cx_ring_causal", persist_state="page")
    st.caption(
        f"Here the devices are {RING_DEVICES} forced CPU host devices in a worker process "
        "(XLA_FLAGS=--xla_force_host_platform_device_count=8): they share this machine's "
        "cores, so the point is memory and exactness, not speed."
    )
    params = dict(n=n, heads=4, head_dim=64, ps=[1, 2, 4, 8], is_causal=causal)
    result = measured("Split over 1, 2, 4, 8 devices", "ring", params, 180, key="cx_ring",
                      forced_devices=RING_DEVICES)  # fmt: skip
    if result is not None:
        chart(cf.ring_memory_figure(result["rows"]))
        worst = max(r["max_abs_err"] for r in result["rows"])
        st.caption(
            f"n = {result['n']:,}, 4 heads of dim 64, float32. Per device: its share of the keys "
            "and values, and XLA's memory analysis of the compiled per-device program "
            f"(arguments, output, temporaries). Largest difference from one-device attention "
            f"over all P: {worst:.1e}."
        )
        st.dataframe(result["rows"], width="stretch", hide_index=True)
    url_state.sync_url()


def long_context_section() -> None:
    model = st.selectbox("Model", list(cx.MODELS), key="cx_model", persist_state="page")
    layers, n_heads, _, h_dim, kv_heads = cx.MODELS[model]
    st.dataframe(cx.long_context_table(model), width="stretch", hide_index=True)
    st.caption(
        f"{model}: {layers} layers, {n_heads} query heads of dim {h_dim}, {kv_heads} KV heads. "
        "Memory of the full scores matrix N·n² for one sequence, per layer and for all layers "
        "if each layer kept its own; fewer KV heads (GQA) do not shrink it, since every query "
        "head has its own n × n scores. Memory-efficient kernels (Rabe & Staats; FlashAttention) "
        "never hold it: their memory grows like n, though their time still grows like n²."
    )


SECTIONS = [sweep_section, window_section, decode_section, ring_section, long_context_section]


def tabs() -> None:
    """One tab per view; only the open one is built."""
    for tab, section in zip(st.tabs(VIEWS, key="cx_view", on_change="rerun"), SECTIONS,
                            strict=True):  # fmt: skip
        if tab.open:
            with tab:
                section()
