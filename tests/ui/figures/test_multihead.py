"""ui.figures.multihead: the mosaic, pinned heads, toy heads, GQA groups, KV-cache bars."""

import numpy as np
import pytest

from attn_jax.lessons import kv_cache as kvc
from tests.helpers import previous_token_map, uniform_map
from ui.figures import multihead as hf
from ui.figures.base import MAX_TICK_LABELS, log_ticks

TOKENS = ["[CLS]", "the", "cat", ",", "sat", "[SEP]"]  # T = 6, punctuation at 3
T = len(TOKENS)


def test_figures_build_and_mark_pins():
    rng = np.random.default_rng(0)
    a = rng.dirichlet(np.ones(40), size=(2, 3, 40))  # long: pooled thumbnails
    thumbs = hf.thumbnails(a, cells=8)
    assert thumbs.shape == (2, 3, 8, 8) and thumbs.dtype == np.float32
    np.testing.assert_allclose(thumbs.sum(-1), 1.0, atol=1e-5)  # pooled rows still sum to 1
    fig = hf.head_mosaic(thumbs, [(1, 2)])
    heat, dots = fig.data
    assert heat.z.shape == (2 * 9, 3 * 9)
    assert [list(c) for c in dots.customdata] == [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]
    assert dots.marker.color == "rgba(0,0,0,0)"  # click targets are invisible, not pale squares
    assert heat.colorbar.orientation == "h"  # the colour bar does not squeeze a phone's mosaic
    assert len(fig.layout.shapes) == 1
    diff = hf.difference(previous_token_map(), uniform_map(), ["<b>", *TOKENS[1:]])
    assert diff.data[0].zmin == -diff.data[0].zmax and "&lt;b&gt;" in list(diff.data[0].x)
    toy = hf.toy_heads(rng.dirichlet(np.ones(4), size=(16, 4)), list("abcd"))
    assert len(toy.data) == 16 and toy.layout.xaxis9.title.text == "key"
    assert toy.layout.yaxis.title.text == "query"
    groups = hf.gqa_groups([0, 0, 1, 1])
    assert len(groups.data) == 4 + 2 and groups.layout.plot_bgcolor is None  # no white box
    assert hf.stat_grid(np.full((2, 3), np.nan), "x").data[0].zmin == 0.0
    run = kvc.toy_multihead(4, 16, 4)
    cat = hf.concat_and_wo(run.concat, run.w_o, 4)
    assert len(cat.data) == 2 and not cat.layout.annotations  # axis titles, no colliding titles
    bars = hf.kv_cache_bars(["a", "b"], [2**30, 2**31], [3 * 2**30, 2**33], highlight="b")
    assert len(bars.data) == 2 and not bars.layout.shapes  # no wash-out rectangle
    assert list(bars.layout.yaxis.ticktext) == ["1", "2", "5"]
    assert list(bars.data[0].marker.line.width) == [0, 3]


def test_pinned_heads_share_one_colour_bar():
    maps = np.stack([previous_token_map(), uniform_map(), uniform_map(), previous_token_map()])
    fig = hf.pinned_heads(maps, TOKENS, ["L0 H0", "L1 H1", "L2 H2", "L3 H3"])
    assert len(fig.data) == 4 and {t.coloraxis for t in fig.data} == {"coloraxis"}
    assert fig.layout.xaxis4.domain[0] > 0.4 and fig.layout.yaxis3.domain[1] < 0.6  # 2 x 2
    labels = [f"t{i}" for i in range(100)]
    long = hf.pinned_heads(np.ones((1, 100, 100)) / 100, labels, ["L0 H0"])
    assert len(long.layout.xaxis.tickvals) <= MAX_TICK_LABELS  # one map: the full width
    two = hf.pinned_heads(np.ones((2, 100, 100)) / 100, labels, ["L0 H0", "L1 H1"])
    assert len(two.layout.xaxis.tickvals) <= MAX_TICK_LABELS // 2  # two maps share it


def test_log_ticks_have_full_labels():
    vals = log_ticks([0.03, 700], margin=1.01)
    assert [f"{v:,.10g}" for v in vals] == [
        "0.05",
        "0.1",
        "0.2",
        "0.5",
        "1",
        "2",
        "5",
        "10",
        "20",
        "50",
        "100",
        "200",
        "500",
    ]
    assert vals[0] == pytest.approx(0.05)
