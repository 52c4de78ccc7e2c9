"""Heatmaps whose cells Streamlit can report when clicked. Pure Plotly, never imports streamlit.

Plotly's heatmap traces send no selection to Streamlit, so a clickable map is two traces:
a `go.Heatmap` that draws the colours, the numbers (small maps only) and the colour bar, and
over it a `go.Scatter` with one tiny transparent point per cell centre whose customdata is
the cell's [row, column]. With `hovermode="closest"` and no hover distance cut-off, the
nearest centre is the cell under the pointer, so a click anywhere in a cell selects its point,
and `st.plotly_chart(fig, on_select=..., selection_mode="points")` returns [row, column].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from ui.figures.base import ATTN_SCALE, MAX_VALUE_CELLS, cell_text, safe_labels, tick_every

SCATTERGL_CELLS = 64 * 64  # past this many cells the click targets use WebGL (SVG gets slow)
OUTLINE = "#E4572E"  # the chosen cell's frame, readable on the light and the dark theme


def _axis(labels: Sequence[str], n: int, title: str) -> dict:
    """A numeric axis 0..n-1 with the tokens as tick labels (shapes stay in cell units);
    past MAX_TICK_LABELS tokens every k-th one is labelled."""
    shown = range(0, n, tick_every(n))
    text = safe_labels(labels)
    return dict(
        title=title,
        tickmode="array",
        tickvals=list(shown),
        ticktext=[text[i] for i in shown],
        range=[-0.5, n - 0.5],
        showgrid=False,
        zeroline=False,
    )


def clickable_heatmap(
    matrix,
    x_labels: Sequence[str],
    y_labels: Sequence[str],
    *,
    title: str = "",
    zmin: float | None = 0.0,
    zmax: float | None = 1.0,
    colorscale=ATTN_SCALE,
    x_title: str = "key (attended to)",
    y_title: str = "query (attending)",
    value_name: str = "weight",
    decimals: int = 4,
    show_values: bool | None = None,
    selected: tuple[int, int] | None = None,
    height: int | None = None,
) -> go.Figure:
    """A heatmap (rows top to bottom) whose cells can be clicked; see the module docstring.

    Args:
      matrix: [R,C]; -inf cells (masked logits) are blank and read −∞ in the hover.
      x_labels: C column labels (keys); y_labels: R row labels (queries). Plain text: they
        go through ui.figures.safe_labels (the₂ for repeats, markup shown literally).
      zmin, zmax: the colour range (None: fitted to the finite values).
      show_values: print the values in the cells; default only up to MAX_VALUE_CELLS cells.
      selected: (row, column) to outline, e.g. the cell whose breakdown is shown.

    Returns:
      go.Figure: trace 0 the heatmap, trace 1 the click targets (customdata [row, column]).
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape != (len(y_labels), len(x_labels)):
        raise ValueError(f"matrix {m.shape} does not fit {len(y_labels)}x{len(x_labels)} labels")
    rows, cols = m.shape
    z = np.where(np.isfinite(m), m, np.nan).astype(np.float32)  # NaN: a blank cell
    if show_values is None:
        show_values = m.size <= MAX_VALUE_CELLS
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=np.arange(cols),
            y=np.arange(rows),
            zmin=zmin,
            zmax=zmax,
            colorscale=colorscale,
            text=cell_text(m, 2) if show_values else None,
            texttemplate="%{text}" if show_values else None,
            hoverinfo="skip",
            colorbar=dict(thickness=14, len=0.9),
        )
    )
    fig.add_trace(_click_targets(m, x_labels, y_labels, x_title, y_title, value_name, decimals))
    if selected is not None and 0 <= selected[0] < rows and 0 <= selected[1] < cols:
        r, c = selected
        frame = dict(color=OUTLINE, width=3)
        fig.add_shape(type="rect", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5, line=frame)
    fig.update_xaxes(**_axis(x_labels, cols, x_title), tickangle=-60)
    fig.update_yaxes(**_axis(y_labels, rows, y_title), autorange="reversed")
    fig.update_layout(
        title=title,
        height=height or min(max(320, 26 * rows + 150), 720),
        margin=dict(l=10, r=10, t=50 if title else 20, b=10),
        hovermode="closest",
        hoverdistance=-1,  # no cut-off: the nearest cell centre is the cell under the pointer
        clickmode="event+select",
        dragmode=False,
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return fig


def _click_targets(m, x_labels, y_labels, x_title, y_title, value_name, decimals):
    """One transparent point per cell centre, customdata [row, column, …] (row-major).

    Up to SCATTERGL_CELLS cells each point's hover names its tokens. Past that, the hover
    reads positions (the tokens are on the axes) and every per-point array travels as a
    typed array: a 256-token map sends about 1 MB instead of 8 MB of hover strings, and
    building it takes a fraction of the memory."""
    ii, jj = np.divmod(np.arange(m.size, dtype=np.int32), m.shape[1])
    common = dict(
        x=jj,
        y=ii,
        mode="markers",
        marker=dict(size=2, color="rgba(0,0,0,0)", opacity=0),
        selected=dict(marker=dict(opacity=0)),
        unselected=dict(marker=dict(opacity=0)),
        showlegend=False,
    )
    if m.size > SCATTERGL_CELLS:
        values = m.astype(np.float32).ravel()
        hover = (
            f"{y_title} #%{{customdata[0]}}<br>{x_title} #%{{customdata[1]}}<br>"
            f"{value_name}: %{{customdata[2]:.{decimals}f}}<extra></extra>"
        )
        customdata = np.stack([ii.astype(np.float32), jj.astype(np.float32), values], 1)
        return go.Scattergl(**common, customdata=customdata, hovertemplate=hover)
    ys, xs = safe_labels(y_labels), safe_labels(x_labels)
    texts = cell_text(m, decimals).ravel()
    hover = [
        f"{y_title}: {ys[i]}<br>{x_title}: {xs[j]}<br>{value_name}: {texts[n]}"
        for n, (i, j) in enumerate(zip(ii, jj, strict=True))
    ]
    customdata = np.stack([ii, jj], 1)
    return go.Scatter(**common, customdata=customdata, hovertext=hover, hoverinfo="text")


def _pair(data) -> tuple[int, int] | None:
    """[row, column, ...] from customdata, sent as a list or as a {"0": .., "1": ..} dict."""
    if isinstance(data, Mapping):
        data = [data.get("0"), data.get("1")]
    try:
        return int(data[0]), int(data[1])
    except (TypeError, ValueError, IndexError, KeyError):
        return None


def clicked_cell(event, shape: tuple[int, int]) -> tuple[int, int] | None:
    """(row, column) of the cell clicked in a `clickable_heatmap`, or None.

    Args:
      event: what `st.plotly_chart(..., on_select=...)` returns (or its session-state value):
        a mapping with selection.points; anything else gives None.
      shape: (R, C) of the matrix, to reject points that do not fit it.
    """
    try:
        points = event["selection"]["points"]
    except (KeyError, TypeError, IndexError):
        return None
    for point in reversed(list(points or [])):  # the last one is the newest click
        if not isinstance(point, Mapping):
            continue
        cell = _pair(point.get("customdata"))
        if cell is None and point.get("curve_number") == 1:
            index = point.get("point_index")
            cell = divmod(index, shape[1]) if isinstance(index, int) and index >= 0 else None
        if cell and 0 <= cell[0] < shape[0] and 0 <= cell[1] < shape[1]:
            return cell
    return None
