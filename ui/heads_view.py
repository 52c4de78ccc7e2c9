"""The Multi-head page's shareable view (URL query params) and CSV exports. No streamlit here.

URL keys: s (sentence), s2 (second sentence), pins ("5.11,0.3" = layer.head, 0-based),
stat (a key of attn_jax.lessons.heads.STATS), view ("heatmap" or "table"). Anything missing, out of
range or garbled falls back to its default with a notice; parsing never raises.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from attn_jax.lessons.heads import STATS
from ui.concept_content import COUNTERFACTUAL, EXAMPLE, MAX_CHARS

DEFAULT_TEXT = EXAMPLE
DEFAULT_TEXT2 = COUNTERFACTUAL
DEFAULT_PINS: tuple[tuple[int, int], ...] = ((5, 11), (0, 0))
DEFAULT_STAT = "entropy"
VIEWS = ("heatmap", "table")
MAX_PINS = 4
MAX_TEXT = MAX_CHARS
_PIN = re.compile(r"^\s*(\d{1,3})\s*[.:]\s*(\d{1,3})\s*$")


@dataclass
class HeadsView:
    """What the page shows; `notices` explains any value that fell back to its default."""

    text: str = DEFAULT_TEXT
    text2: str = DEFAULT_TEXT2
    pins: list[tuple[int, int]] = field(default_factory=lambda: list(DEFAULT_PINS))
    stat: str = DEFAULT_STAT
    view: str = "heatmap"
    notices: list[str] = field(default_factory=list)


def _one(params: Mapping, key: str) -> str | None:
    """The last value of a query param as a string (lists give their last item), or None."""
    value = params.get(key)
    if isinstance(value, list | tuple):
        value = value[-1] if value else None
    return None if value is None else str(value)


def _parse_text(raw: str | None, default: str, name: str, notices: list[str]) -> str:
    """A sentence from the URL: control characters dropped, cut to MAX_TEXT, default if empty."""
    if raw is None:
        return default
    text = "".join(c for c in raw if c.isprintable() or c in " \t").strip()
    if not text:
        notices.append(f"The {name} in the link was empty; using the default sentence.")
        return default
    if len(text) > MAX_TEXT:
        notices.append(f"The {name} in the link was cut to {MAX_TEXT} characters.")
        text = text[:MAX_TEXT]
    return text


def parse_pins(raw: str | None, n_layers: int, n_heads: int, notices: list[str]) -> list:
    """'5.11,0.3' -> [(5, 11), (0, 3)]: valid, distinct, in range, at most MAX_PINS."""
    if raw is None:
        return list(DEFAULT_PINS)
    if not raw.strip():
        return []
    pins: list[tuple[int, int]] = []
    bad = []
    for part in raw.split(",")[:64]:
        match = _PIN.match(part)
        pin = (int(match[1]), int(match[2])) if match else None
        if pin is None or not (pin[0] < n_layers and pin[1] < n_heads):
            bad.append(part.strip()[:20])
        elif pin not in pins:
            pins.append(pin)
    if bad:
        notices.append(
            f"Ignored pinned heads that are not layer.head with layer < {n_layers} and "
            f"head < {n_heads}: {', '.join(repr(b) for b in bad[:5])}."
        )
    if len(pins) > MAX_PINS:
        notices.append(f"Only the first {MAX_PINS} pinned heads are shown.")
        pins = pins[:MAX_PINS]
    return pins if pins or not bad else list(DEFAULT_PINS)


def parse_view(params: Mapping, n_layers: int = 6, n_heads: int = 12) -> HeadsView:
    """Validate query params (any mapping of str -> str or list of str) into a HeadsView."""
    notices: list[str] = []
    view = HeadsView(notices=notices)
    view.text = _parse_text(_one(params, "s"), DEFAULT_TEXT, "sentence", notices)
    view.text2 = _parse_text(_one(params, "s2"), DEFAULT_TEXT2, "second sentence", notices)
    view.pins = parse_pins(_one(params, "pins"), n_layers, n_heads, notices)
    stat = _one(params, "stat")
    if stat is not None and stat in STATS:
        view.stat = stat
    elif stat is not None:
        notices.append(f"Unknown statistic {stat[:20]!r} in the link; showing {DEFAULT_STAT}.")
    mode = _one(params, "view")
    if mode is not None and mode in VIEWS:
        view.view = mode
    elif mode is not None:
        notices.append(f"Unknown view {mode[:20]!r} in the link; showing the heatmap.")
    return view


def to_params(view: HeadsView) -> dict[str, str]:
    """The inverse of parse_view: a HeadsView as query params."""
    return {
        "s": view.text,
        "s2": view.text2,
        "pins": ",".join(f"{layer}.{head}" for layer, head in view.pins),
        "stat": view.stat,
        "view": view.view,
    }


def pin_label(pin: tuple[int, int]) -> str:
    """(5, 11) -> 'L5 H11'."""
    return f"L{pin[0]} H{pin[1]}"


def _csv_safe(label: str) -> str:
    """Stop spreadsheets from reading a token such as '=1+1' as a formula."""
    return "'" + label if label[:1] in ("=", "+", "-", "@", "\t", "\r") else label


def matrix_csv(matrix, tokens: Sequence[str]) -> str:
    """An attention matrix [T,S] as CSV, rows = queries, columns = keys, tokens as labels."""
    m = np.asarray(matrix, dtype=np.float64)
    labels = [_csv_safe(str(t)) for t in tokens]
    if m.shape != (len(labels), len(labels)):
        raise ValueError(f"matrix {m.shape} does not fit {len(labels)} tokens")
    frame = pd.DataFrame(m, index=pd.Index(labels, name="query \\ key"), columns=labels)
    buf = io.StringIO()
    frame.to_csv(buf, float_format="%.6f")
    return buf.getvalue()


def table_csv(rows: list[dict]) -> str:
    """The head statistics table (list of dict rows) as CSV."""
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


def add_pins(current: list[str], new: list[tuple[int, int]]) -> list[str]:
    """Pin labels after adding `new` heads: no duplicates, the oldest dropped beyond MAX_PINS."""
    labels = list(current)
    for pin in new:
        label = pin_label(pin)
        if label not in labels:
            labels.append(label)
    return labels[-MAX_PINS:]


def label_pin(label: str) -> tuple[int, int]:
    """'L5 H11' -> (5, 11) (the inverse of pin_label)."""
    layer, head = label.split()
    return int(layer[1:]), int(head[1:])
