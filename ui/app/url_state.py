"""A page's view <-> its URL, through session state (Streamlit side of ui/app/url_params.py).

On arrival (a new session, a page switch, or an edited address) the URL is read into the
widgets' session-state keys; after each change the page calls `sync_url` and the address bar
shows the view again. Widgets take their value from session state only (no `value=`), and
use `persist_state="page"` so a hidden widget keeps its value.

Streamlit's own `bind="query-params"` is not used: a bound key cannot be validated with a
notice, nor be written beside st.query_params.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from ui.app.url_params import Param, dump, parse

_MARK = "_url_view"  # (page, the query params this session last read or wrote)
_SPECS = "_url_specs"
NOTICES = "_url_notices"


def _current_params() -> dict[str, tuple[str, ...]]:
    qp = st.query_params
    return {k: tuple(qp.get_all(k)) for k in qp}


def view_from_url(page: str, specs: Sequence[Param]) -> list[str]:
    """Load the URL into session state when the visitor arrives; returns the notices."""
    now = _current_params()
    st.session_state[_SPECS] = list(specs)
    if st.session_state.get(_MARK) == (page, now):
        return []
    parsed = parse({k: list(v) for k, v in now.items()}, specs)
    for p in specs:
        st.session_state[p.widget] = parsed.values[p.key]
    st.session_state[_MARK] = (page, now)
    return parsed.notices


def specs() -> list[Param]:
    """The URL keys of the page being drawn (as given to view_from_url)."""
    return st.session_state.get(_SPECS, [])


def value(p: Param):
    """A key's current value (its widget's, else the default)."""
    return st.session_state.get(p.widget, p.default)


def sync_url() -> None:
    """Write the current view to the address bar (only what differs from the defaults)."""
    keys = specs()
    params = dump({p.key: value(p) for p in keys}, keys)
    mark = st.session_state.get(_MARK)
    now = {k: (v,) for k, v in params.items()}
    if mark is not None and mark[1] == now:
        return
    st.query_params.from_dict(params)
    st.session_state[_MARK] = (mark[0] if mark else "", now)


def show_notices(notices: Sequence[str]) -> None:
    """One warning per URL key that fell back to its default (texts are already escaped)."""
    for notice in notices:
        st.warning(notice, icon=":material/link_off:")


def url_tabs(p: Param, names: dict[str, str]) -> tuple[str, dict]:
    """Tabs whose active one is the URL key `p` (values: the short names of `names`, which
    maps name -> tab label). Only the active tab's content needs building: returns
    (active name, {name: tab container})."""
    tab_key = f"{p.widget}_tabs"
    chosen = st.session_state.get(p.widget) or p.default
    st.session_state[tab_key] = names[chosen]
    containers = st.tabs(
        list(names.values()), key=tab_key, on_change=_tab_changed, args=(p, names, tab_key)
    )
    return chosen, dict(zip(names, containers, strict=True))


def _tab_changed(p: Param, names: dict[str, str], tab_key: str) -> None:
    label = st.session_state.get(tab_key)
    st.session_state[p.widget] = next((k for k, v in names.items() if v == label), p.default)
