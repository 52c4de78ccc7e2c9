"""Complexity: the O(n²) cost of attention, measured on the visitor's chosen JAX device."""

import jax
import streamlit as st

from attn_jax.bench import sweep as cx
from attn_jax.bench import sweep_methods as ck
from attn_jax.kernels.memory_efficient import working_set_bytes
from ui import complexity_figures as cf
from ui.components import page_setup

page_setup("Complexity", ":material/speed:")

LENGTH_OPTIONS = [2**i for i in range(4, 17)]  # 16 .. 65536


def _label(device) -> str:
    return f"{device.platform}:{device.id} ({device.device_kind})"


@st.cache_resource
def _devices() -> dict:
    """label -> jax.Device, for every device JAX sees (CPU always)."""
    devices = {_label(d): d for d in jax.devices()}
    for d in jax.devices("cpu"):
        devices.setdefault(_label(d), d)
    return devices


@st.cache_data(show_spinner=False, max_entries=1024)
def _measure(method, n, heads, head_dim, dtype, device_label, repeats) -> dict:
    return cx.measure_point(method, n, heads, head_dim, dtype, _devices()[device_label], repeats)


@st.cache_data(show_spinner=False)
def _matmul_gflops(device_label: str, dtype: str) -> float:
    return ck.matmul_gflops(_devices()[device_label], dtype)


st.title("The cost of attention, measured")
st.markdown(
    "Every token attends to every other token, so attention builds an **n × n** matrix of "
    "scores per head: double the sequence and the work and the memory grow **four times**. "
    "Here you time it on a real JAX device next to a memory-efficient kernel (same result, "
    "computed in blocks with a running softmax, never holding n × n) and two models whose "
    "cost grows only linearly: an RNN (one step per token) and a 1-D convolution."
)
st.caption(
    "The page uses whatever `jax.devices()` offers: with `jax[cuda12]` or `jax[tpu]` "
    "installed a GPU or TPU appears in the list by itself (only CPU has been tried here)."
)

devices = _devices()
c1, c2, c3, c4 = st.columns(4)
device_label = c1.selectbox("Device", list(devices), key="cx_device")
platform = devices[device_label].platform
heads = c2.select_slider("Heads N", [1, 2, 4, 8, 12, 16], value=8, key="cx_heads")
head_dim = c3.select_slider("Head dim H", [16, 32, 64, 128], value=64, key="cx_head_dim")
dtype = c4.selectbox("dtype", list(ck.DTYPES), key="cx_dtype")
lengths = st.multiselect(
    "Sequence lengths n", LENGTH_OPTIONS, default=cx.default_lengths(platform), key="cx_lengths"
)
methods = st.multiselect(
    "Methods", list(ck.METHODS), default=list(ck.METHODS), key="cx_methods",
    format_func=lambda m: cf.LABELS[m],
)  # fmt: skip
c1, c2 = st.columns(2)
repeats = c1.slider("Repeats (median of)", 1, 7, 3, key="cx_repeats")
budget = c2.slider("Time budget (s)", 5, 180, 60, key="cx_budget")
if platform == "cpu":
    st.info(
        "On CPU the plain kernels are skipped where the scores matrix and its copies would "
        f"pass {cx.CPU_QUADRATIC_CAP_BYTES // 2**20} MB (about n = 1024 with 8 heads): the whole "
        "server may have only ~690 MB (Streamlit Community Cloud). The memory-efficient "
        "kernel and the linear references keep going.",
        icon=":material/shield:",
    )

settings = (device_label, tuple(sorted(lengths)), tuple(methods), heads, head_dim, dtype, repeats)
if st.button("Run the sweep", type="primary", key="cx_run"):
    bar = st.progress(0.0, text="compiling and timing …")
    try:
        table = cx.run_sweep(
            lengths, methods, heads, head_dim, dtype, devices[device_label],
            repeats=repeats, time_budget_s=budget,
            progress=lambda frac, text: bar.progress(frac, text=text),
            measure=lambda m, n, h, d, t, dev, r: _measure(m, n, h, d, t, _label(dev), r),
        )  # fmt: skip
        st.session_state["cx_result"] = (settings, table, _matmul_gflops(device_label, dtype))
    except cx.SweepTooLarge as exc:
        st.error(f"Too large for this device: {exc}", icon=":material/block:")
    except cx.SweepBusy as exc:
        st.warning(f"Busy: {exc}", icon=":material/hourglass_top:")
    bar.empty()

result = st.session_state.get("cx_result")
if result is None:
    st.info("Choose the settings and press **Run the sweep**.", icon=":material/play_arrow:")
else:
    ran, table, mm_gflops = result
    if ran != settings:
        st.caption("Showing the last sweep; the settings above have changed since.")
    if table["status"].str.contains("time budget").any():
        st.warning(
            "The time budget ran out: the longest lengths were not timed.", icon=":material/timer:"
        )
    st.plotly_chart(cf.time_figure(table, cx.slopes(table)), width="stretch")
    st.caption(
        "On log-log axes a cost ~ nᵏ is a line of slope k: about 2 for attention, about 1 for "
        "the linear references (small n is dominated by fixed overheads, which flattens lines)."
    )
    ns = sorted(set(table["n"]))
    scores = [ck.scores_bytes(n, ran[3], 4) for n in ns]
    working = [working_set_bytes(n, ran[3], ran[4]) for n in ns]
    st.plotly_chart(cf.memory_figure(ns, scores, working), width="stretch")
    st.caption(
        f"For {ran[3]} heads of dim {ran[4]} in float32. The plain kernels hold about three "
        "such matrices at once (logits, their exponentials, the weights); the memory-efficient "
        "kernel holds q, k, v, the output, their copies and one block of scores: it grows like n."
    )
    st.plotly_chart(cf.gflops_figure(table, mm_gflops), width="stretch")
    st.dataframe(table, width="stretch", hide_index=True)
    st.download_button(
        "Download the table (CSV)", table.to_csv(index=False), "attention_sweep.csv",
        mime="text/csv", key="cx_csv",
    )  # fmt: skip

st.subheader("The cost of long context")
model = st.selectbox("Model", list(cx.MODELS), index=6, key="cx_model")
layers, n_heads, d_model, h_dim, kv_heads = cx.MODELS[model]
st.dataframe(cx.long_context_table(model), width="stretch", hide_index=True)
st.caption(
    f"{model}: {layers} layers, {n_heads} query heads of dim {h_dim}, {kv_heads} KV heads. "
    "Memory of the full scores matrix N·n² for one sequence, per layer and for all layers "
    "if each layer kept its own; fewer KV heads (GQA) do not shrink it, since every query "
    "head has its own n × n scores. Memory-efficient kernels (Rabe & Staats; FlashAttention) "
    "never hold it: their memory grows like n, though their time still grows like n²."
)
