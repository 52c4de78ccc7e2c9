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


FIGURES = sorted((ROOT / "ui" / "figures").rglob("*.py"))
# ui/app modules that are pure (parsing, text safety, fixed content): no streamlit either
APP_PURE = [ROOT / "ui" / "app" / name for name in ("url_params.py", "text.py", "content.py")]
PAGES = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]


@pytest.mark.parametrize("path", FIGURES + APP_PURE, ids=lambda p: str(p.relative_to(ROOT)))
def test_figure_builders_and_pure_helpers_never_import_streamlit(path):
    assert "streamlit" not in imported_roots(path)


def test_figures_import_only_figures_and_text_safety():
    """ui/figures/ sits below ui/app and ui/views: it may use ui.figures and ui.app.text only."""
    for path in FIGURES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ui."):
                assert node.module.startswith(("ui.figures", "ui.app.text")), path.name


def test_app_never_imports_views():
    """ui/app/ is below ui/views/: page set-up never reaches up into a page's sections."""
    for path in sorted((ROOT / "ui" / "app").glob("*.py")):
        assert "ui.views" not in path.read_text(encoding="utf-8"), path.name


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_pages_read_like_a_table_of_contents(path):
    """A page calls its view's sections in order: no functions, no caching, no compute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    assert not imported_roots(path) & {"attn_jax", "jax", "numpy", "plotly"}, path.name
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 120, path.name


def test_no_page_renders_html_from_variables():
    """unsafe_allow_html only with literal text, never with a variable (visitor text)."""
    for path in [*PAGES, *sorted((ROOT / "ui").rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and any(
                kw.arg == "unsafe_allow_html" for kw in node.keywords
            ):
                assert all(isinstance(a, ast.Constant) for a in node.args), path.name


@pytest.mark.parametrize("path", sorted((ROOT / "attn_jax").rglob("*.py")), ids=str)
def test_attn_jax_modules_stay_small(path):
    """One idea per module: none grows past ~300 lines."""
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 320, path.name
