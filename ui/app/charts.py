"""Every chart on every page is drawn the same way: full width, the app's theme (light or
dark), PNG export at 3x (ui.figures.base.PLOTLY_CONFIG)."""

from __future__ import annotations

import streamlit as st

from ui.figures.base import PLOTLY_CONFIG

# Keyword arguments of every st.plotly_chart.
PLOTLY = {"width": "stretch", "theme": "streamlit", "config": PLOTLY_CONFIG}


def chart(fig, key: str | None = None, **kwargs):
    """st.plotly_chart(fig) with the app's keywords; returns what it returns (the selection
    event when `on_select` is passed)."""
    return st.plotly_chart(fig, key=key, **PLOTLY, **kwargs)
