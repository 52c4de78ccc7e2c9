"""The clickable heatmap (ui.click_heatmap): looks like a heatmap, reports the clicked cell."""

import numpy as np
import pytest

from ui.figures.base import MAX_VALUE_CELLS
from ui.figures.click_heatmap import clickable_heatmap, clicked_cell


def _fig(m, **kw):
    t = m.shape
    return clickable_heatmap(
        m, [f"k{j}" for j in range(t[1])], [f"q{i}" for i in range(t[0])], **kw
    )


def test_one_click_target_per_cell_with_its_indices():
    m = np.arange(15, dtype=float).reshape(3, 5) / 15  # odd sizes: swapped axes would fail
    fig = _fig(m, selected=(2, 4))
    heat, targets = fig.data
    assert heat.type == "heatmap" and heat.hoverinfo == "skip" and heat.colorbar is not None
    cells = np.asarray(targets.customdata)
    assert cells.shape == (15, 2)
    for (i, j), x, y in zip(cells, targets.x, targets.y, strict=True):
        assert (x, y) == (j, i)
    assert "q2" in targets.hovertext[14] and "k4" in targets.hovertext[14]
    assert "0.9333" in targets.hovertext[14]
    assert list(fig.layout.xaxis.ticktext) == [f"k{j}" for j in range(5)]
    assert fig.layout.yaxis.autorange == "reversed" and fig.layout.hovermode == "closest"
    (frame,) = fig.layout.shapes
    assert (frame.x0, frame.x1, frame.y0, frame.y1) == (3.5, 4.5, 1.5, 2.5)


def test_values_only_where_readable_and_masked_cells_blank():
    small = np.array([[0.5, -np.inf], [0.25, 0.75]])
    fig = _fig(small)
    assert fig.data[0].texttemplate == "%{text}" and fig.data[0].text[0][1] == "−∞"
    assert np.isnan(fig.data[0].z[0][1])
    assert "−∞" in fig.data[1].hovertext[1]
    n = int(np.sqrt(MAX_VALUE_CELLS)) + 1
    assert _fig(np.zeros((n, n))).data[0].texttemplate is None


def test_labels_are_text_never_markup():
    fig = clickable_heatmap(np.eye(2), ["<b>x</b>", "the"], ["a", "a"])
    assert fig.layout.xaxis.ticktext[0] == "&lt;b&gt;x&lt;/b&gt;"
    assert list(fig.layout.yaxis.ticktext) == ["a", "a₂"]
    with pytest.raises(ValueError):
        clickable_heatmap(np.eye(2), ["a"], ["a", "b"])


@pytest.mark.parametrize(
    "event, cell",
    [
        ({"selection": {"points": [{"customdata": [1, 2]}]}}, (1, 2)),
        ({"selection": {"points": [{"customdata": {"0": 2, "1": 0}}]}}, (2, 0)),
        ({"selection": {"points": [{"curve_number": 1, "point_index": 7}]}}, (2, 1)),
        ({"selection": {"points": [{"customdata": [9, 9]}]}}, None),  # outside the matrix
        ({"selection": {"points": []}}, None),
        (None, None),
        ({"selection": {"points": ["junk", {"customdata": "x"}]}}, None),
    ],
)
def test_clicked_cell(event, cell):
    assert clicked_cell(event, (3, 3)) == cell
