"""The copy model's section (on the Concept page): induction heads formed on screen.

Three tabs (URL key `copy`): the recorded run with a step slider (`step`), "train one now"
in a worker process, and a typed sequence (`symbols`) with heads knocked out
(`copy_ablate`). Every number is measured on models/induction-toy or on the visitor's run.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from attn_jax.bench import worker
from attn_jax.lessons import induction_live as il
from ui.app import url_params as up
from ui.app import url_state
from ui.app.charts import chart
from ui.app.models import get_copy_model
from ui.app.text import md_escape, token_labels
from ui.app.work_queue import TURNS
from ui.figures import copy_model as cfig

TABS = {
    "run": "The recorded run",
    "train": "Train one now",
    "try": "Type your own sequence",
}
TAB = up.choice("copy", "run", list(TABS), state_key="copy_tab")
_RECORDED = il.recorded_run()
# the step slider opens at the recorded run's end (the formed heads), which a link omits
STEP = up.integer(
    "step", None if _RECORDED is None else int(_RECORDED.map_steps[-1]), 0, 10**6,
    state_key="copy_step",
)  # fmt: skip
DEFAULT_SYMBOLS = "x 3 K 7 q R 2 m Z K 7 q R 2 m w"
MAX_SYMBOL_CHARS = 200
SYMBOLS = up.text("symbols", DEFAULT_SYMBOLS, MAX_SYMBOL_CHARS, state_key="copy_symbols")
MAX_KNOCKED_OUT = 16
COPY_ABLATE = up.pairs("copy_ablate", (), (16, 16), MAX_KNOCKED_OUT, state_key="copy_ablate")
PARAMS = [TAB, STEP, SYMBOLS, COPY_ABLATE]
LEARNING_RATES = (1e-3, 2e-3, 3e-3, 5e-3, 1e-2)
TRAINED = "copy_trained"  # this visitor's own run: (seed, learning rate, RecordedRun)
TRAIN_TIMEOUT_S = 150.0
REDRAW_EVERY_S = 1.0  # the live charts while a run trains


def _roles(run) -> dict[tuple[int, int], str]:
    prev, copying, _ = run.heads()
    return {prev: "previous-token", copying: "copying"}


def _head_name(pair, roles) -> str:
    role = roles.get(tuple(pair))
    return f"L{pair[0]} H{pair[1]}" + (f" ({role})" if role else "")


def _probe_rings(run) -> list[tuple[int, int]]:
    """(query, key) of the probe's copy: query a+m+j looks at a+j+1 (textbook induction)."""
    a, m = run.probe_start, run.probe_length
    return [(a + m + j, a + j + 1) for j in range(m - 1)]


def _probe_maps(run, step: int, tokens, key: str) -> None:
    """The previous-token head and the copying head on the probe row at `step`."""
    prev, copying, shift = run.heads()
    maps = run.maps_at(step)
    left, right = st.columns(2)
    with left:
        fig = cfig.row_map(maps[prev], tokens, title=f"L{prev[0]}·H{prev[1]}: previous-token head")
        chart(fig, key=f"{key}_prev")
    with right:
        name = "copying head (one place later)" if shift else "induction head"
        fig = cfig.row_map(
            maps[copying], tokens, title=f"L{copying[0]}·H{copying[1]}: {name}",
            rings=_probe_rings(run),
        )  # fmt: skip
        chart(fig, key=f"{key}_copy")
    st.caption(
        "The probe row: a random span of "
        f"{run.probe_length} symbols at position {run.probe_start}, then the same span again. "
        "Left, each symbol looks at the one just before it. Right, at the second copy, each "
        "symbol should look one step past its twin in the first copy (the rings): the symbol "
        "that comes next."
        + (
            " This model's copying head looks one place further on, at the position whose "
            "previous symbol is the one to predict, and reads it through the previous-token "
            "head's output there."
            if shift
            else ""
        )
    )


def _step_picker(run) -> int:
    options = [int(s) for s in run.map_steps]
    chosen = st.session_state.get(STEP.widget)
    if chosen not in options:  # no step, or one from another run: the nearest snapshot
        target = options[-1] if chosen is None else int(chosen)
        st.session_state[STEP.widget] = min(options, key=lambda s: abs(s - target))
    return st.select_slider(
        "Training step", options, key=STEP.widget, format_func=lambda s: f"{s:,}",
        persist_state="page",
    )  # fmt: skip


def recorded(model, run) -> None:
    """The shipped model's training run: curves, then the probe's maps at a chosen step."""
    cliff = run.cliff()
    minutes = f" in {run.wall_s:.0f} s on a 2-core CPU" if run.wall_s else ""
    st.markdown(
        f"This small model (2 layers × 4 heads) was trained here for {int(run.steps[-1]):,} "
        f"steps{minutes}, on rows of random symbols in which a span is copied at a random "
        "place. Only copying predicts the copy, so the model must find the earlier "
        "occurrence of the current symbol and read what came after it."
        + (
            f" Its held-out copy accuracy jumped past 50 % around step {cliff:,}: the loss "
            "falls off a cliff as the previous-token head and the copying head form "
            "together (a phase change, Olsson et al. 2022)."
            if cliff is not None
            else ""
        )
    )
    step = _step_picker(run)
    chart(cfig.run_curves(run, step), key="copy_curves")
    i = run.index_of(step)
    prev, copying, shift = run.heads()
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("step", f"{int(run.steps[i]):,}")
    c2.metric("held-out copy accuracy", f"{run.copy_accuracy[i]:.0%}")
    c3.metric(f"L{prev[0]}·H{prev[1]} previous-token", f"{run.previous_token[i][prev]:.2f}")
    score = (run.induction_next if shift else run.induction)[i][copying]
    kind = "copy" if shift else "induction"
    c4.metric(f"L{copying[0]}·H{copying[1]} {kind} score", f"{score:.2f}")
    tokens = token_labels(model.tokenizer.token_strings(run.probe_ids))
    _probe_maps(run, step, tokens, key="copy_probe")


def _train(seed: int, learning_rate: float, model):
    """Run "train one now" in a worker with live progress; returns a RecordedRun or None."""
    bar = st.progress(0.0, text="starting a worker process …")
    live = st.empty()
    log = {"heads": [], "maps": [], "probe": None}
    drawn = [0.0]

    def on_data(data: dict) -> None:
        log["heads"].append(data["entry"])
        if data.get("maps"):
            log["maps"].append(data["maps"])
        if log["probe"] is None and data.get("probe"):
            log["probe"] = data["probe"]
        if time.monotonic() - drawn[0] >= REDRAW_EVERY_S and log["maps"] and log["probe"]:
            drawn[0] = time.monotonic()
            live.plotly_chart(cfig.run_curves(il.RecordedRun.from_log(log), height=420))

    try:
        with TURNS.released():  # a fragment's run holds none; a page run gives its turn back
            result = worker.run_task(
                "copy_model", {"seed": seed, "learning_rate": learning_rate},
                timeout_s=TRAIN_TIMEOUT_S, on_data=on_data, env=il.TRAIN_ENV,
                progress=lambda f, text: bar.progress(min(max(f, 0.0), 1.0), text=text),
            )  # fmt: skip
    except worker.WorkerBusy:
        st.info(
            "Busy: another visitor is training a model or measuring on this server right now. "
            "Try again in a minute; meanwhile the recorded run (first tab) shows the same "
            "training, step by step.",
            icon=":material/hourglass_top:",
        )
        return None
    except worker.WorkerTimeout as exc:
        st.warning(f"Stopped: {exc}.", icon=":material/timer:")
        return None
    except worker.WorkerError as exc:
        st.error(f"The training failed ({exc.kind}): {md_escape(exc)}", icon=":material/block:")
        return None
    finally:
        bar.empty()
        live.empty()
    return il.RecordedRun.from_log(result)


def train_now(model, shipped) -> None:
    """A fresh copy model trained with the visitor's seed and learning rate, then its heads."""
    st.markdown(
        "Train a fresh copy model now, from random weights, with your own seed and learning "
        "rate: a shorter run than the shipped model's, in a separate short-lived process on "
        "this server (its memory leaves with it). One training runs at a time per server; if "
        "another visitor's is running you will be told, and can watch the recorded run."
    )
    c1, c2 = st.columns(2)
    seed = c1.number_input(
        "Seed", min_value=0, max_value=il.SEED_RANGE[1], value=1, step=1, key="copy_seed"
    )
    learning_rate = c2.select_slider(
        "Peak learning rate", LEARNING_RATES, value=3e-3, key="copy_lr",
        format_func=lambda v: f"{v:g}",
    )  # fmt: skip
    if st.button("Train a copy model now", type="primary", icon=":material/model_training:"):
        run = _train(int(seed), float(learning_rate), model)
        if run is not None:
            st.session_state[TRAINED] = (int(seed), float(learning_rate), run)
    trained = st.session_state.get(TRAINED)
    if trained is None:
        return
    seed, learning_rate, run = trained
    final = run.final
    st.success(
        f"Your run (seed {seed}, learning rate {learning_rate:g}): {int(run.steps[-1]):,} steps "
        f"in {run.wall_s or 0:.0f} s. On {final.get('rows', '?')} held-out rows it copies "
        f"{final.get('copy_accuracy', float('nan')):.0%} of the symbols right (the shipped "
        f"model: {shipped.copy_accuracy[-1]:.0%}).",
        icon=":material/check_circle:",
    )
    chart(cfig.run_curves(run, int(run.steps[-1]), height=460), key="copy_own_curves")
    tokens = token_labels(model.tokenizer.token_strings(run.probe_ids))
    _probe_maps(run, int(run.steps[-1]), tokens, key="copy_own_probe")


@st.cache_data(show_spinner="Knocking out each head on held-out rows …", max_entries=2)
def _sweep(path: str) -> tuple[float, object]:
    return il.knockout_sweep(get_copy_model())


@st.cache_data(show_spinner=False, max_entries=32)
def _held_out_accuracy(path: str, heads: tuple[tuple[int, int], ...]) -> float:
    return il.held_out(get_copy_model(), heads).copy_accuracy


def _symbols_box(model) -> list[int] | None:
    if st.session_state.get(SYMBOLS.widget) is None:
        st.session_state[SYMBOLS.widget] = DEFAULT_SYMBOLS
    text = st.text_input(
        "Symbols (letters and digits, separated by spaces)", key=SYMBOLS.widget,
        max_chars=MAX_SYMBOL_CHARS, persist_state="page",
    )  # fmt: skip
    ids, unknown, cut = il.symbol_ids(model, text or "")
    if len(ids) < 2:
        st.info("Type a few symbols, then repeat some of them.", icon=":material/info:")
        return None
    if unknown:
        st.info(
            f"Not in the model's vocabulary (read as <unk>): {md_escape(' '.join(unknown), 80)}",
            icon=":material/info:",
        )
    if cut:
        st.info(
            f"Only the first {model.config.n_positions - 1} symbols fit in the model's context.",
            icon=":material/content_cut:",
        )
    return ids


def _knockout_picker(model, roles) -> list[tuple[int, int]]:
    cfg = model.config
    options = [(la, he) for la in range(cfg.n_layer) for he in range(cfg.n_head)]
    chosen = st.session_state.get(COPY_ABLATE.widget) or []
    st.session_state[COPY_ABLATE.widget] = [tuple(p) for p in chosen if tuple(p) in options]
    return st.multiselect(
        "Knock out heads (their outputs are zeroed before W_O)", options,
        format_func=lambda p: _head_name(p, roles), max_selections=MAX_KNOCKED_OUT,
        key=COPY_ABLATE.widget, persist_state="page",
    )  # fmt: skip


def _predictions_table(model, base, after) -> pd.DataFrame:
    labels = token_labels(base.tokens)
    vocab = model.tokenizer.token_strings(range(model.config.vocab_size))
    rows = []
    for t, label in enumerate(labels):
        row = {
            "position": t,
            "symbol": label,
            "copying predicts": vocab[base.expected[t]] if base.expected[t] >= 0 else "",
            "model predicts": f"{vocab[base.top1[t]]} ({base.top1_prob[t]:.0%})",
        }
        if after is not None:
            row["with heads knocked out"] = f"{vocab[after.top1[t]]} ({after.top1_prob[t]:.0%})"
        row["scored"] = "✓" if base.scored[t] else ""
        rows.append(row)
    return pd.DataFrame(rows)


def try_your_own(model, run) -> None:
    """A typed sequence: what the copying head looks at, the predictions, and knock-outs."""
    st.markdown(
        "Type symbols, then repeat some of them: at the repeat, the copying head looks back "
        "to what followed the symbol's earlier occurrence, and the model predicts it. Knock "
        "out heads to see the copying fail, and find which first-layer head it reads from."
    )
    ids = _symbols_box(model)
    if ids is None:
        return
    roles = _roles(run)
    heads = _knockout_picker(model, roles)
    base = il.typed_run(model, ids)
    after = il.typed_run(model, ids, heads) if heads else None
    shown = after or base
    full = _held_out_accuracy(str(model.path), ())
    c1, c2 = st.columns(2)
    if base.copy_accuracy is None:
        c1.metric("copy accuracy on your symbols", "no repeat yet")
    else:
        now = base.copy_accuracy if after is None else after.copy_accuracy
        c1.metric(
            "copy accuracy on your symbols", f"{now:.0%}",
            None if after is None else f"{(now - base.copy_accuracy) * 100:+.0f} points",
            help="Top-1 predictions at the positions (✓ below) whose next symbol repeats what "
            "followed the current symbol's earlier occurrence.",
        )  # fmt: skip
    held = full if not heads else _held_out_accuracy(str(model.path), tuple(map(tuple, heads)))
    c2.metric(
        f"on {il.HELD_OUT_ROWS} held-out rows", f"{held:.0%}",
        None if not heads else f"{(held - full) * 100:+.0f} points (chance {il.chance(model):.1%})",
        help="Rows the model never trained on: a random span of 4 to 16 symbols after a "
        "random prefix, then its copy; scored from the second copied symbol on.",
    )  # fmt: skip
    _, copying, _ = run.heads()
    tokens = token_labels(base.tokens)
    src = base.sources()
    rings = [(q, int(k)) for q, k in enumerate(src) if k >= 0]
    title = f"L{copying[0]}·H{copying[1]} on your symbols" + (", heads out" if heads else "")
    chart(cfig.row_map(shown.attentions[copying], tokens, title=title, rings=rings),
          key="copy_typed_map")  # fmt: skip
    st.dataframe(_predictions_table(model, base, after), hide_index=True, key="copy_typed_table")
    st.markdown("**The two-head circuit: held-out copy accuracy with one head knocked out**")
    full_acc, each = _sweep(str(model.path))
    chart(cfig.knockout_map(full_acc, each, title="Copy accuracy without that head"),
          key="copy_knockout_map")  # fmt: skip
    worst = divmod(int(each.argmin()), each.shape[1])
    last = each.shape[0] - 1
    st.caption(
        "A head whose loss drops the accuracy is part of the circuit. Here knocking out "
        f"{_head_name(worst, roles)} alone takes it from {full_acc:.0%} to "
        f"{each[worst]:.0%}; the heads of the last layer "
        + (
            "can stand in for each other (knock out all of them to break the copy)."
            if each[last].min() > full_acc - 0.1
            else "do not all copy: knock out the copying one to break the copy."
        )
    )


@st.fragment
def section() -> None:
    """Induction heads formed on screen: the copy model's three tabs (one built at a time)."""
    st.header("Induction heads, formed on screen")
    st.markdown(
        "An induction head finds the earlier occurrence of the current token and copies what "
        "came after it: the circuit behind in-context copying in LLMs (Olsson et al. 2022). "
        "The small text decoder has not formed one in its short training; a tiny model "
        "trained on a task that only copying solves grows one in a couple of minutes. Here "
        "is its recorded run, one you can train now, and the model itself."
    )
    model, run = get_copy_model(), il.recorded_run()
    if model is None or run is None:
        st.info(
            "The copy model (models/induction-toy) is not installed: `python "
            "scripts/train_induction.py --out models/induction-toy` trains it in a few minutes.",
            icon=":material/info:",
        )
        return
    chosen, tabs = url_state.url_tabs(TAB, TABS)
    with tabs[chosen]:
        if chosen == "run":
            recorded(model, run)
        elif chosen == "train":
            train_now(model, run)
        else:
            try_your_own(model, run)
    url_state.sync_url()
