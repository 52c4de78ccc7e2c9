"""Hostile text for tests: Markdown, LaTeX and HTML fragments that would plant links, images,
headings, emphasis, formulas or elements if any page rendered visitor text as markup.

Every planted thing carries a marker (EVIL, or the host evil.example) so a test can look for it.
"""

from __future__ import annotations

from hypothesis import strategies as st

EVIL_HOST = "evil.example"
FRAGMENTS = [
    f"![EVIL](http://{EVIL_HOST}/pixel.png)",
    f"[Log in EVIL](http://{EVIL_HOST}/login)",
    f"<http://{EVIL_HOST}/auto>",
    f"http://{EVIL_HOST}/bare",
    f"www.{EVIL_HOST}",
    "# EVIL heading",
    "## EVIL",
    "**EVIL bold**",
    "_EVIL em_",
    "*EVIL*",
    "`EVIL code`",
    "```\nEVIL fence\n```",
    "$\\mathrm{EVIL}$",
    "$$\\mathrm{EVIL}$$",
    ":red[EVIL]",
    ":material/home: EVIL",
    "<b id=probe>EVIL</b>",
    f'<img id=probe src="http://{EVIL_HOST}/img.png">',
    f'<a href="http://{EVIL_HOST}/a" id=probe>EVIL</a>',
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    "&lt;b&gt;EVIL&amp;",
    "> EVIL quote",
    "- EVIL item",
    "1. EVIL item",
    "| EVIL | table |\n|---|---|",
    "~~EVIL~~",
    "\\*EVIL\\*",
    "<br>EVIL<sub>x</sub>",
]

markup = st.one_of(
    st.sampled_from(FRAGMENTS),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8),
)
payloads = st.lists(markup, min_size=2, max_size=6).map(" ".join)
ALL_FRAGMENTS = " ".join(FRAGMENTS)  # every kind of markup in one text
