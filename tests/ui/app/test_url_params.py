"""ui.url_params and ui.text: every URL value parsed safely, notices that never echo values."""

from __future__ import annotations

import re
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from ui.app import url_params as up
from ui.app.text import md_escape, one_line, plotly_text, token_labels

SPECS = [
    up.text("text", "The animal.", 2000),
    up.integer("layer", 3, 0, 5),
    up.number("temp", 1.0, 0.05, 5.0),
    up.choice("view", "raw", ["raw", "rollout"]),
    up.flag("causal", False),
    up.pairs("pins", [(5, 11)], (6, 12), 4),
]


def test_defaults_and_round_trip():
    assert up.parse({}, SPECS).values == {s.key: s.default for s in SPECS}
    view = {
        "text": "A <b>cat</b> & [x](y)",
        "layer": 0,
        "temp": 0.5,
        "view": "rollout",
        "causal": True,
        "pins": [(0, 1), (2, 3)],
    }
    params = up.dump(view, SPECS)
    assert params["pins"] == "0.1,2.3" and params["causal"] == "1"
    parsed = up.parse(params, SPECS)
    assert parsed.values == view and not parsed.notices
    assert up.dump(up.parse({}, SPECS).values, SPECS) == {}  # defaults stay out of links


def test_bad_values_fall_back_with_one_notice_naming_the_key():
    bad = {
        "layer": "99",
        "temp": "nan",
        "view": "![x](http://evil.example/p.png)",
        "causal": ["1", "0"],
        "pins": "5.11,9.9",
        "text": "x" * 100_000,
    }
    parsed = up.parse(bad, SPECS)
    assert parsed.values == {s.key: s.default for s in SPECS}
    assert len(parsed.notices) == len(bad)
    for key in bad:
        assert sum(f"“{key}”" in n for n in parsed.notices) == 1
    assert not any("evil" in n for n in parsed.notices)
    assert any("more than once" in n for n in parsed.notices)


def test_unknown_keys_are_named_escaped():
    parsed = up.parse({"[a](http://x.y)": "1"}, SPECS)
    assert len(parsed.notices) == 1 and "](" not in parsed.notices[0]


def test_text_is_cleaned_and_cut():
    parsed = up.parse({"text": "  a\x00b\u202e " + "c" * 3000}, SPECS)
    assert parsed.values["text"].startswith("ab") and len(parsed.values["text"]) == 2000


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([s.key for s in SPECS] + ["zz"]), st.text(max_size=50)))
def test_parse_never_raises_and_values_are_valid(params):
    parsed = up.parse(params, SPECS)
    assert 0 <= parsed.values["layer"] <= 5
    assert parsed.values["view"] in ("raw", "rollout")


MARKUP = st.one_of(
    st.sampled_from(
        [
            "![i](http://e.x/p.png)",
            "[Log in](http://e.x)",
            "<https://e.x>",
            "http://e.x",
            "www.e.x",
            "# H",
            "**b**",
            "_i_",
            "`c`",
            "```\nf\n```",
            "$x^2$",
            "$$y$$",
            ":red[r]",
            ":material/home:",
            ":smile:",
            "<b>t</b>",
            "&amp;",
            "> q",
            "- l",
            "1. l",
            "| a |",
            "\\",
            "~~s~~",
            "[^1]",
        ]
    ),
    st.text(max_size=20),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(MARKUP, max_size=6).map(" ".join))
def test_md_escape_leaves_no_unescaped_punctuation(text):
    escaped = md_escape(text)
    assert unescaped_punctuation(escaped) == [] and "\n" not in escaped
    assert unescape(escaped) == one_line(text)


def unescaped_punctuation(md: str) -> list[str]:
    """ASCII punctuation not preceded by a backslash (a backslash escapes the next char)."""
    found, i = [], 0
    while i < len(md):
        if md[i] == "\\":
            i += 2
            continue
        if md[i] in string.punctuation:
            found.append(md[i])
        i += 1
    return found


def unescape(md: str) -> str:
    return re.sub(r"\\(.)", r"\1", md)


def test_plotly_text_and_token_labels():
    assert plotly_text("<a href=x>&</a>") == "&lt;a href=x&gt;&amp;&lt;/a&gt;"
    assert token_labels(["the", "cat", "the", " ", "the"]) == ["the", "cat", "the₂", "␣", "the₃"]
