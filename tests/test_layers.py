"""The layers stay clean: attn_jax is pure compute, figure builders never touch Streamlit."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_roots(path: Path) -> set[str]:
    """Top-level package names a module imports."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize(
    "path", sorted((ROOT / "attn_jax").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_attn_jax_never_imports_streamlit_or_plotly(path):
    assert not imported_roots(path) & {"streamlit", "plotly", "ui", "pages"}


# The shared Streamlit pieces; every other ui module is pure (figures, parsing, content).
UI_STREAMLIT = {
    "beyond_view.py",
    "cell_link.py",
    "components.py",
    "concept_view.py",
    "decoder_view.py",
    "quiz.py",
    "state.py",
}
UI_PURE = [p for p in sorted((ROOT / "ui").rglob("*.py")) if p.name not in UI_STREAMLIT]


@pytest.mark.parametrize("path", UI_PURE, ids=lambda p: p.name)
def test_figure_builders_never_import_streamlit(path):
    assert "streamlit" not in imported_roots(path)


def test_no_page_renders_html_from_variables():
    """unsafe_allow_html only with literal text, never with a variable (visitor text)."""
    for path in [
        ROOT / "app.py",
        *sorted((ROOT / "pages").glob("*.py")),
        *(ROOT / "ui" / name for name in sorted(UI_STREAMLIT)),
    ]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and any(
                kw.arg == "unsafe_allow_html" for kw in node.keywords
            ):
                assert all(isinstance(a, ast.Constant) for a in node.args), path.name


@pytest.mark.parametrize("path", sorted((ROOT / "attn_jax").rglob("*.py")), ids=str)
def test_attn_jax_modules_stay_small(path):
    """One idea per module: none grows past ~300 lines."""
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 320, path.name
