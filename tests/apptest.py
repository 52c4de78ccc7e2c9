"""The one page runner: AppTest of one page of the multipage app. The entry file is app.py,
as in `streamlit run`, so links between pages (`st.page_link`) resolve as they do for a
visitor."""

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


def rerun(at: AppTest) -> AppTest:
    """Run `at` (again, after a widget change) and check that no exception was shown."""
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def run_page(name: str, query: dict | None = None, timeout: float = 300) -> AppTest:
    """Open page `name` (with an optional URL query), run it, and check it raised nothing."""
    return rerun(page_test(name, timeout=timeout, query=query))
