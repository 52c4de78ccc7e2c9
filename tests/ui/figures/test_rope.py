"""The RoPE figures: arrows from the origin, markup in tokens shown literally, flat lines per
offset, the chosen cell marked."""

import numpy as np

from ui.figures import rope as rf


def test_pair_rotation_arrows_and_the_chosen_token():
    rng = np.random.default_rng(3)
    before = rng.normal(size=(5, 2))
    after = before[:, ::-1] * [-1, 1]  # a quarter turn
    labels = ["a", "<b>", "c", "a", "d"]
    fig = rf.pair_rotation_figure(before, after, labels, np.arange(5) * 1.0, title="t",
                                  highlight=1)  # fmt: skip
    grey, rotated = fig.data[0], fig.data[1]
    assert list(grey.x[:3]) == [0.0, before[0, 0], None]  # origin -> tip, then a gap
    assert len(rotated.x) == 15 and list(rotated.marker.size[:3]) == [0, 11, 0]
    assert rotated.marker.showscale and rotated.marker.color[4] == 1  # tips coloured by m
    assert "&lt;b&gt;" in rotated.text[4] and "<b>" not in "".join(rotated.text)
    assert "a₂" in rotated.text[10]  # a repeated token is told apart
    assert fig.data[-1].name == "&lt;b&gt; after" and fig.data[-1].line.color == rf.CHOSEN
    assert fig.layout.yaxis.scaleanchor == "x"  # a circle stays a circle
    many = rf.pair_rotation_figure(np.ones((80, 2)), np.ones((80, 2)), [str(n) for n in
                                   range(80)], np.zeros(80), title="", highlight=70)  # fmt: skip
    assert len(many.data[1].x) == 3 * rf.MAX_ARROWS and many.data[-1].x[1] == 1.0


def test_offset_lines_and_curve():
    dots = np.array([[1.0, 1.0, 1.0], [2.0, 2.0, np.nan]])
    fig = rf.offset_lines_figure(dots, [0, 1], title="flat", highlight=1)
    assert [len(t.x) for t in fig.data] == [3, 2]
    assert fig.data[1].line.color == rf.CHOSEN and "chosen" in fig.data[1].name
    curve = rf.offset_curve_figure([3.0, 2.0, 1.0], [np.nan, 1.0, 0.5], [1.5, 1.0, 0.8],
                                   title="q·k", highlight=2)  # fmt: skip
    names = [t.name for t in curve.data]
    assert names[-1] == "the chosen cell (offset 2)" and list(curve.data[1].x) == [1, 2]
    no_mark = rf.offset_curve_figure([1.0], [1.0], [1.0], title="", highlight=None)
    assert len(no_mark.data) == 3
