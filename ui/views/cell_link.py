"""Attention maps whose cells open their arithmetic on the Math page.

Any page can draw a model's attention map with `attention_heatmap_with_click`; a click on a
cell switches to the Math page with that sentence, layer, head, query and key in the URL
(the Math page's URL contract), where the cell's breakdown is shown.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from ui.app.charts import chart
from ui.app.page import MATH_PAGE
from ui.figures.click_heatmap import clickable_heatmap, clicked_cell


def math_link_params(
    text: str, layer: int, head: int, query: int, key: int, source: str = "encoder"
) -> dict[str, str]:
    """The Math page's URL keys for one cell of one head (token positions as in the model)."""
    return {
        "text": str(text),
        "source": str(source),
        "layer": str(int(layer)),
        "head": str(int(head)),
        "query": str(int(query)),
        "key": str(int(key)),
    }


def attention_heatmap_with_click(
    weights,
    tokens: Sequence[str],
    *,
    text: str,
    layer: int,
    head: int,
    source: str = "encoder",
    key: str,
    title: str = "",
    selected: tuple[int, int] | None = None,
    height: int | None = None,
) -> None:
    """Draw one head's attention map; clicking a cell opens its breakdown on the Math page.

    Args:
      weights: [T,S] attention weights of that head (rows = queries), e.g.
        `run_of(source, text).attentions[layer, head]`.
      tokens: the model's T tokens (word pieces incl. [CLS]/[SEP]), as plain text.
      text: the sentence the map was computed from (carried to the Math page).
      layer, head: 0-based, as in the model.
      source: the model, as the Math page's `source` names it: "encoder" or "decoder".
      key: a unique widget key for the chart (required: the click is read from it).
      title, selected, height: passed to ui.click_heatmap.clickable_heatmap.

    Example (on the Concept page):
      attention_heatmap_with_click(out.attentions[3, 1], out.tokens, text=text,
                                   layer=3, head=1, key="concept_map")
    """
    fig = clickable_heatmap(weights, tokens, tokens, title=title, selected=selected, height=height)
    event = chart(fig, key=key, on_select="rerun", selection_mode="points")
    st.caption("Click a cell to see its arithmetic on the Math page.")
    cell = clicked_cell(event, np.shape(weights))
    if cell is not None:
        query_params = math_link_params(text, layer, head, cell[0], cell[1], source)
        st.switch_page(MATH_PAGE, query_params=query_params)


def heatmap_picking_cell(fig, *, key: str, query_key: str, key_key: str) -> None:
    """Draw a `clickable_heatmap`; a click sets st.session_state[query_key], [key_key].

    For a page that shows the breakdown itself (the Math page): the click runs a callback
    before the next run, so the pickers bound to those keys show the clicked cell.
    """
    shape = np.shape(fig.data[0].z)  # [R,C]

    def on_click() -> None:
        cell = clicked_cell(st.session_state.get(key), shape)
        if cell is not None:
            st.session_state[query_key], st.session_state[key_key] = cell

    chart(fig, key=key, on_select=on_click, selection_mode="points")
