"""Every page's view as URL query parameters: declared once, parsed safely. No streamlit here.

A page declares its keys as `Param`s; `parse` turns any query mapping into valid values and
notices, and never raises. A notice names the key, never the value (values come from whoever
wrote the link). `dump` writes only what differs from the defaults, so links stay short.

Shared keys (the URL contract): text, text2 (sentences), source (model or input), layer,
head (0-based), query, key (token positions, 0-based), pins, view.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ui.app.text import md_escape

MAX_VALUE_CHARS = 4000  # longer values are not read at all
_PAIR = re.compile(r"^\s*(\d{1,3})\s*[.:]\s*(\d{1,3})\s*$")


@dataclass(frozen=True)
class Param:
    """One URL key: how to read it, its default and the session-state key of its widget."""

    key: str
    default: Any
    read: Callable[[str], Any]  # raises ValueError on a bad value
    write: Callable[[Any], str] = str
    state_key: str = ""  # the widget's key; "" means the URL key itself

    @property
    def widget(self) -> str:
        return self.state_key or self.key


def text(key: str, default: str, max_chars: int, state_key: str = "") -> Param:
    """A sentence: control characters dropped; over-long text is cut (see `parse`)."""

    def read(raw: str) -> str:
        cleaned = "".join(c for c in raw if c.isprintable() or c == " ").strip()
        if not cleaned:
            raise ValueError("empty")
        return cleaned[:max_chars]

    return Param(key, default, read, str, state_key)


def integer(key: str, default: int | None, lo: int, hi: int, state_key: str = "") -> Param:
    """An integer in [lo, hi]."""

    def read(raw: str) -> int:
        if not re.fullmatch(r"\s*-?\d{1,9}\s*", raw):
            raise ValueError("not an integer")
        value = int(raw)
        if not lo <= value <= hi:
            raise ValueError("out of range")
        return value

    return Param(key, default, read, str, state_key)


def number(
    key: str, default: float, lo: float, hi: float, state_key: str = "", decimals: int | None = None
) -> Param:
    """A finite float in [lo, hi], rounded to `decimals` (a slider's steps) when given."""

    def read(raw: str) -> float:
        value = float(raw[:32])
        if not (math.isfinite(value) and lo <= value <= hi):
            raise ValueError("out of range")
        return value if decimals is None else round(value, decimals)

    return Param(key, default, read, lambda v: f"{v:g}", state_key)


def choice(
    key: str,
    default: Any,
    options: Sequence,
    state_key: str = "",
    aliases: Mapping[str, Any] | None = None,
) -> Param:
    """One of `options`, written as str(option); `aliases` are older names still read (an
    old link keeps working) but never written."""
    by_text = {**(aliases or {}), **{str(o): o for o in options}}

    def read(raw: str):
        if raw not in by_text:
            raise ValueError("unknown option")
        return by_text[raw]

    return Param(key, default, read, str, state_key)


def labelled(key: str, default: str, labels: Mapping[str, str], state_key: str = "") -> Param:
    """One of `labels` (short name -> label): the URL holds the short name, the widget's
    state the label (for tabs keyed by their label)."""
    by_name, by_label = dict(labels), {label: name for name, label in labels.items()}

    def read(raw: str) -> str:
        if raw not in by_name:
            raise ValueError("unknown option")
        return by_name[raw]

    return Param(key, by_name[default], read, lambda label: by_label.get(label, default), state_key)


def flag(key: str, default: bool, state_key: str = "") -> Param:
    """A boolean written as 1 or 0 (true/false/yes/no also read)."""
    words = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}

    def read(raw: str) -> bool:
        if raw.strip().lower() not in words:
            raise ValueError("not a boolean")
        return words[raw.strip().lower()]

    return Param(key, default, read, lambda v: "1" if v else "0", state_key)


def choices(key: str, default: Sequence, options: Sequence, state_key: str = "") -> Param:
    """Several distinct `options` (a multiselect), written "a,b" in the order given."""
    by_text = {str(o): o for o in options}

    def read(raw: str) -> list:
        out = []
        for part in raw.split(",") if raw.strip() else []:
            if part.strip() not in by_text:
                raise ValueError("unknown option")
            if (item := by_text[part.strip()]) not in out:
                out.append(item)
        return out

    return Param(key, list(default), read, lambda v: ",".join(str(o) for o in v), state_key)


def pairs(key: str, default: Sequence, hi: tuple[int, int], max_items: int, state_key="") -> Param:
    """Distinct (a, b) pairs written "5.11,0.3", with a < hi[0], b < hi[1]: pinned heads."""

    def read(raw: str) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for part in raw.split(",") if raw.strip() else []:
            match = _PAIR.match(part)
            if not match or not (int(match[1]) < hi[0] and int(match[2]) < hi[1]):
                raise ValueError("not layer.head")
            if (pair := (int(match[1]), int(match[2]))) not in out:
                out.append(pair)
        if len(out) > max_items:
            raise ValueError("too many")
        return out

    def write(value) -> str:
        return ",".join(f"{a}.{b}" for a, b in value)

    return Param(key, list(default), read, write, state_key)


@dataclass
class Parsed:
    """Valid values by URL key, and one plain-text notice per key that fell back."""

    values: dict[str, Any]
    notices: list[str] = field(default_factory=list)


def _raw(params: Mapping, key: str) -> tuple[str | None, str | None]:
    """(value, problem): a key's single value, or the reason it cannot be used."""
    value = params.get(key)
    if isinstance(value, list | tuple):
        if len(value) > 1:
            return None, "appears more than once"
        value = value[0] if value else None
    if value is None:
        return None, None
    value = str(value)
    if len(value) > MAX_VALUE_CHARS:
        return None, "is too long"
    return value, None


def parse(params: Mapping, specs: Sequence[Param]) -> Parsed:
    """Validate a query mapping (str -> str or list of str) against a page's keys."""
    parsed = Parsed({p.key: p.default for p in specs})
    for p in specs:
        raw, problem = _raw(params, p.key)
        if raw is not None:
            try:
                parsed.values[p.key] = p.read(raw)
                continue
            except (ValueError, TypeError, OverflowError):
                problem = "could not be read"
        if problem:
            parsed.notices.append(ignored(p.key, problem))
    unknown = [k for k in params if k not in {p.key for p in specs}]
    if unknown:
        names = ", ".join(md_escape(k, 24) for k in unknown[:3])
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        parsed.notices.append(f"The link has keys this page does not use ({names}{more}).")
    return parsed


def ignored(key: str, problem: str = "could not be read") -> str:
    """The notice for one bad URL value: names the key, not the value."""
    return f"The link's value for “{md_escape(key, 24)}” {problem}, so it was ignored."


def dump(values: Mapping[str, Any], specs: Sequence[Param]) -> dict[str, str]:
    """The query parameters for a view: only the keys whose value is not the default."""
    out = {}
    for p in specs:
        value = values.get(p.key, p.default)
        if value is not None and value != p.default:
            out[p.key] = p.write(value)
    return out
