"""Predict, then reveal: a question, a choice, then the answer and why.

The questions come from attn_jax.lessons.quiz, computed on the numbers on screen. The choice
lives only in the widget's session state of this visit; nothing is recorded.
"""

from __future__ import annotations

import zlib

import streamlit as st

from attn_jax.lessons.quiz import Question
from ui.app.text import md_escape


def predict_then_reveal(question: Question, *, key: str) -> None:
    """A radio with no choice made; once one is picked, right or wrong and the reason.

    `key` names the question's place on the page; a new question (new numbers) starts
    unanswered."""
    fingerprint = zlib.crc32("\n".join((question.prompt, *question.options)).encode())
    choice = st.radio(
        md_escape(question.prompt),
        range(len(question.options)),
        index=None,
        format_func=lambda n: md_escape(question.options[n]),
        key=f"{key}_{fingerprint:08x}",
    )
    if choice is None:
        st.caption("Make a guess: the answer appears once you pick one.")
    elif choice == question.answer:
        st.success(f"Right. {md_escape(question.reason)}", icon=":material/check_circle:")
    else:
        right = md_escape(question.options[question.answer])
        st.error(f"Not quite: {right}. {md_escape(question.reason)}", icon=":material/cancel:")
