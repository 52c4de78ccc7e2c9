"""The Multi-head page's URL keys (ui.url_params) and its CSV exports. No streamlit here.

URL keys: text, text2 (the two sentences), pins (pinned heads, "5.11,0.3" = layer.head,
0-based), view (raw | value-weighted | rollout), stat (a key of attn_jax.lessons.heads.STATS),
stats (heatmap | table), gqa, kv and layer (GQA on the real model: on, K/V heads, the layer
shown), source
(encoder | decoder, when a decoder is installed), plus the toy and KV-cache settings. A value
that cannot be used falls back to its default with a notice naming the key only.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from attn_jax.lessons.heads import STATS
from attn_jax.lessons.kv_cache import BYTES_PER_VALUE, MODEL_FACTS
from ui import url_params as up
from ui.beyond_figures import KV_CHOICES, VIEWS
from ui.concept_content import COUNTERFACTUAL, EXAMPLE, MAX_CHARS

DEFAULT_TEXT = EXAMPLE
DEFAULT_TEXT2 = COUNTERFACTUAL
DEFAULT_PINS: tuple[tuple[int, int], ...] = ((5, 11), (0, 0))
DEFAULT_STAT = "entropy"
STATS_VIEWS = ("heatmap", "table")
SOURCES = {"encoder": "Encoder (all-MiniLM-L6-v2)", "decoder": "Decoder (GPT-2 layout)"}
MAX_PINS = 4
MAX_LAYERS, MAX_HEADS = 48, 32  # URL bounds; the page checks pins against its model

TEXT = up.text("text", DEFAULT_TEXT, MAX_CHARS, state_key="mh_text")
TEXT2 = up.text("text2", DEFAULT_TEXT2, MAX_CHARS, state_key="mh_text2")
PINS = up.pairs("pins", DEFAULT_PINS, (MAX_LAYERS, MAX_HEADS), MAX_PINS, state_key="mh_pins")
VIEW = up.choice("view", "raw", list(VIEWS), state_key="mh_view")
STAT = up.choice("stat", DEFAULT_STAT, list(STATS), state_key="mh_stat")
STATS_VIEW = up.choice("stats", "heatmap", STATS_VIEWS, state_key="mh_stats_view")
SOURCE = up.choice("source", "encoder", list(SOURCES), state_key="mh_source")
KV = up.choice("kv", 4, KV_CHOICES, state_key="mh_gqa_kv")
GQA = up.flag("gqa", False, state_key="mh_gqa_on")  # run GQA on the real model
LAYER = up.integer("layer", 5, 0, MAX_LAYERS - 1, state_key="mh_gqa_layer")
TOY = [
    up.choice("toy_n", 4, (1, 2, 4, 8, 16), state_key="toy_n"),
    up.choice("toy_d", 32, (16, 32), state_key="toy_d"),
    up.integer("toy_t", 5, 3, 8, state_key="toy_t"),
    up.integer("toy_seed", 0, 0, 9999, state_key="toy_seed"),
    up.choice("gqa_n", 8, (2, 4, 8, 16), state_key="gqa_n"),
    up.integer("gqa_k", 2, 1, 16, state_key="gqa_k"),
]
KV_CACHE = [
    up.choice("kv_model", "Llama 3 8B", list(MODEL_FACTS), state_key="mh_kv_model"),
    up.integer("ctx", 8192, 1, 1_048_576, state_key="mh_ctx"),
    up.choice("dtype", "fp16 / bf16", list(BYTES_PER_VALUE), state_key="mh_dtype"),
]
PARAMS = [TEXT, TEXT2, PINS, VIEW, STAT, STATS_VIEW, SOURCE, GQA, KV, LAYER, *TOY, *KV_CACHE]


def model_shape(model) -> tuple[int, int]:
    """(layers, heads) of the encoder or the decoder (GPT-2 names its sizes n_layer, n_head)."""
    cfg = model.config
    return (
        int(getattr(cfg, "n_layers", None) or cfg.n_layer),
        int(getattr(cfg, "n_heads", None) or cfg.n_head),
    )


def pin_label(pin: tuple[int, int]) -> str:
    """(5, 11) -> 'L5 H11'."""
    return f"L{pin[0]} H{pin[1]}"


def valid_pins(pins, n_layers: int, n_heads: int) -> list[tuple[int, int]]:
    """The pins that exist in a model with n_layers × n_heads, distinct, at most MAX_PINS."""
    out: list[tuple[int, int]] = []
    for pin in pins or []:
        try:
            layer, head = int(pin[0]), int(pin[1])
        except (TypeError, ValueError, IndexError):
            continue
        if 0 <= layer < n_layers and 0 <= head < n_heads and (layer, head) not in out:
            out.append((layer, head))
    return out[:MAX_PINS]


def _csv_safe(label: str) -> str:
    """Stop spreadsheets from reading a token such as '=1+1' as a formula."""
    return "'" + label if label[:1] in ("=", "+", "-", "@", "\t", "\r") else label


def matrix_csv(matrix, tokens: Sequence[str], columns: Sequence[str] | None = None) -> str:
    """A matrix [T,S] as CSV, rows = queries, columns = keys, tokens as labels.

    `columns` labels the columns when they are not the tokens (e.g. heads)."""
    m = np.asarray(matrix, dtype=np.float64)
    rows = [_csv_safe(str(t)) for t in tokens]
    cols = rows if columns is None else [_csv_safe(str(c)) for c in columns]
    if m.shape != (len(rows), len(cols)):
        raise ValueError(f"matrix {m.shape} does not fit {len(rows)} × {len(cols)} labels")
    name = "query \\ key" if columns is None else ""
    frame = pd.DataFrame(m, index=pd.Index(rows, name=name), columns=cols)
    buf = io.StringIO()
    frame.to_csv(buf, float_format="%.6f")
    return buf.getvalue()


def table_csv(rows: list[dict]) -> str:
    """A table (list of dict rows) as CSV."""
    return pd.DataFrame(rows).to_csv(index=False)


def _point_pin(point, n_heads: int) -> tuple[int, int] | None:
    """(layer, head) of one clicked point: its customdata (a list, or a {"0": .., "1": ..} dict
    as the browser sends numpy arrays), else its index in the row-major grid of dots."""
    if not isinstance(point, Mapping):
        return None
    data = point.get("customdata")
    if isinstance(data, Mapping):
        data = [data.get("0"), data.get("1")]
    try:
        return int(data[0]), int(data[1])
    except (TypeError, ValueError, IndexError, KeyError):
        pass
    index = point.get("point_index")
    if point.get("curve_number") == 1 and isinstance(index, int) and index >= 0:
        return divmod(index, n_heads)
    return None


def pins_from_points(points, n_layers: int, n_heads: int) -> list[tuple[int, int]]:
    """Heads clicked in the mosaic (see ui.heads_figures.head_mosaic), validated, distinct."""
    pins = []
    for point in points or []:
        pin = _point_pin(point, n_heads)
        if pin and 0 <= pin[0] < n_layers and 0 <= pin[1] < n_heads and pin not in pins:
            pins.append(pin)
    return pins


def add_pins(current, new: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Pins after adding `new` heads: no duplicates, the oldest dropped beyond MAX_PINS."""
    pins = [tuple(p) for p in current or []]
    for pin in new:
        if tuple(pin) not in pins:
            pins.append(tuple(pin))
    return pins[-MAX_PINS:]
