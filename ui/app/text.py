"""Text from visitors and links, made safe to show. No streamlit here.

The one rule: a sentence, a token, a URL value or a file name reaches the screen only through
an element that shows text literally (st.text, st.code, table cells) or after one of these:
  md_escape     for anything Streamlit renders as Markdown (st.markdown, st.caption,
                st.info/st.warning, widget labels and help): every ASCII punctuation
                character gets a backslash, so no link, image, autolink, heading, emphasis,
                code, LaTeX ($…$), emoji shortcode (:x:), directive or HTML tag can form.
  plotly_text   for Plotly labels, titles and hover text: Plotly renders a subset of HTML
                (<b>, <a href>, <br>, entities), so "&", "<" and ">" become entities and show
                as themselves.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Sequence

_MD_SPECIAL = re.compile("([" + re.escape(string.punctuation) + "])")
_BREAKS = {"Cc", "Zl", "Zp"}
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def one_line(text: object) -> str:
    """Control characters and line or paragraph separators as spaces."""
    return "".join(" " if unicodedata.category(c) in _BREAKS else c for c in str(text))


def md_escape(text: object, max_chars: int | None = None) -> str:
    """`text` as Markdown that renders exactly these characters, on one line.

    Control characters and line breaks become spaces (a new line could start a heading or a
    list); `max_chars` cuts long text with an ellipsis before escaping.
    """
    raw = one_line(text)
    if max_chars is not None and len(raw) > max_chars:
        raw = raw[: max_chars - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", raw)


def plotly_text(text: object) -> str:
    """`text` for a Plotly label or hover: its markup characters as entities."""
    return one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def display_token(token: str) -> str:
    """A token as a reader sees it: outer spaces dropped, an all-space token as '␣'."""
    shown = str(token).strip()
    return shown if shown else "␣"


def token_labels(tokens: Sequence[str]) -> list[str]:
    """One label per token, unique, the same in every figure and picker.

    A token that repeats gets its occurrence as a subscript from the second one on:
    "the", "street", "the₂". Labels are plain text: pass them through `plotly_text` for
    figures (the figure builders do) and `md_escape` for Markdown.
    """
    seen: dict[str, int] = {}
    labels = []
    for token in tokens:
        shown = display_token(token)
        seen[shown] = seen.get(shown, 0) + 1
        n = seen[shown]
        labels.append(shown if n == 1 else f"{shown}{str(n).translate(_SUBSCRIPTS)}")
    return labels
