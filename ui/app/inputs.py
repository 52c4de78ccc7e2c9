"""The sentence box every page uses: a visitor's text, cleaned and capped, with a friendly
notice for empty or over-long text (the text itself is never rendered as Markdown)."""

from __future__ import annotations

import streamlit as st

from ui.app.content import MAX_CHARS


def clean_text(text: str | None) -> tuple[str, str | None]:
    """Strip, cut to MAX_CHARS; returns (text, notice or None). Empty text gives ("", msg)."""
    text = (text or "").replace("\x00", "")
    if not text.strip():
        return "", "Type a sentence to see its attention (the box is empty)."
    if len(text) > MAX_CHARS:
        return text[:MAX_CHARS], f"Only the first {MAX_CHARS} characters are used."
    return text.strip(), None


def _cut_to_limit(key: str) -> None:
    """on_change: a paste past the limit is cut to it (and a notice says so), not dropped."""
    text = st.session_state.get(key) or ""
    if len(text) > MAX_CHARS:
        st.session_state[key] = text[:MAX_CHARS]
        st.session_state[f"_{key}_was_cut"] = len(text)


def sentence_input(label: str, default: str, key: str) -> str:
    """A sentence box; shows a friendly notice for empty or over-long text. Returns '' if empty.

    Its value lives in session state under `key` (set from a shared link, or `default` on
    first use) and survives runs in which the box is hidden."""
    if key not in st.session_state:
        st.session_state[key] = default
    raw = st.text_input(label, key=key, on_change=_cut_to_limit, args=(key,), persist_state="page")
    if cut := st.session_state.pop(f"_{key}_was_cut", None):
        st.info(
            f"The text had {cut:,} characters; only the first {MAX_CHARS:,} are used.",
            icon=":material/content_cut:",
        )
    text, notice = clean_text(raw)
    if notice:
        st.info(notice, icon=":material/info:")
    return text
