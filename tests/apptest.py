"""AppTest of one page of the multipage app: the entry file is app.py, as in `streamlit run`,
so links between pages (`st.page_link`) resolve as they do for a visitor."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGE_FILES = {
    "concept": "pages/1_concept.py",
    "math": "pages/2_math.py",
    "multihead": "pages/3_multihead.py",
    "complexity": "pages/4_complexity.py",
}


def page_test(name: str, timeout: float = 180, query: dict | None = None) -> AppTest:
    """An AppTest (not yet run) that opens page `name` with an optional URL query."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.switch_page(PAGE_FILES[name])
