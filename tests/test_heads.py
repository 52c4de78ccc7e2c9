"""Head statistics, JS divergence, role tags, clustering, GQA/KV cache, URL parsing, figures."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_jax.lessons import heads as hd
from attn_jax.lessons import kv_cache as kvc
from ui.app import downloads
from ui.app import url_params as up
from ui.figures import multihead as hf
from ui.figures.base import MAX_TICK_LABELS, log_ticks
from ui.views import multihead as hv

TOKENS = ["[CLS]", "the", "cat", ",", "sat", "[SEP]"]  # T = 6, punctuation at 3
T = len(TOKENS)


def uniform(t=T):
    return np.full((t, t), 1.0 / t)


def previous_token(t=T):
    """Row 0 on itself, row i on i-1."""
    a = np.zeros((t, t))
    a[0, 0] = 1.0
    a[np.arange(1, t), np.arange(t - 1)] = 1.0
    return a


def one_hot_column(j, t=T):
    a = np.zeros((t, t))
    a[:, j] = 1.0
    return a


def stats_of(a):
    return {k: float(v) for k, v in hd.head_stats(a, TOKENS).items()}


def test_uniform_head():
    s = stats_of(uniform())
    assert s["entropy"] == pytest.approx(math.log(T))
    assert s["norm_entropy"] == pytest.approx(1.0)
    assert s["confidence"] == pytest.approx(1 / T)
    assert s["cls"] == pytest.approx(1 / T) and s["sep"] == pytest.approx(1 / T)
    assert s["punct"] == pytest.approx(1 / T)
    assert s["prev"] == pytest.approx(1 / T) and s["next"] == pytest.approx(1 / T)
    # mean |i-j| over a uniform row i is sum_j |i-j| / T; averaged over rows: (T²-1)/(3T)
    assert s["distance"] == pytest.approx((T**2 - 1) / (3 * T))


def test_previous_token_head():
    s = stats_of(previous_token())
    assert s["prev"] == pytest.approx(1.0)
    assert s["next"] == pytest.approx(0.0)
    assert s["entropy"] == pytest.approx(0.0, abs=1e-9)
    assert s["confidence"] == pytest.approx(1.0)
    assert s["distance"] == pytest.approx((T - 1) / T)  # row 0 looks at itself (0), others 1
    assert s["self"] == pytest.approx(1 / T)
    # [CLS] gets rows 0 and 1; punctuation (index 3) gets row 4; [SEP] (last) gets nothing
    assert s["cls"] == pytest.approx(2 / T)
    assert s["punct"] == pytest.approx(1 / T)
    assert s["sep"] == pytest.approx(0.0)


def test_one_hot_sinks_and_next_token():
    assert stats_of(one_hot_column(0))["cls"] == pytest.approx(1.0)
    assert stats_of(one_hot_column(T - 1))["sep"] == pytest.approx(1.0)
    assert stats_of(one_hot_column(3))["punct"] == pytest.approx(1.0)
    nxt = np.zeros((T, T))
    nxt[np.arange(T - 1), np.arange(1, T)] = 1.0
    nxt[T - 1, T - 1] = 1.0
    assert stats_of(nxt)["next"] == pytest.approx(1.0)
    assert stats_of(nxt)["prev"] == pytest.approx(0.0)


def test_stats_keep_leading_axes_and_odd_sizes():
    rng = np.random.default_rng(0)
    tokens = ["[CLS]", "a", "!", "b", "?", "c", "[SEP]"]
    a = rng.dirichlet(np.ones(7), size=(3, 5, 7))  # L=3, N=5, T=7
    s = hd.head_stats(a, tokens)
    assert all(v.shape == (3, 5) for v in s.values())
    assert s["punct"][1, 2] == pytest.approx(a[1, 2][:, [2, 4]].sum(-1).mean())
    with pytest.raises(ValueError):
        hd.head_stats(a, tokens[:-1])


def test_single_token_has_no_previous_or_next():
    s = hd.head_stats(np.ones((1, 1)), ["[CLS]"])
    assert np.isnan(s["prev"]) and np.isnan(s["next"])
    assert s["cls"] == pytest.approx(1.0) and s["norm_entropy"] == 0.0


def test_is_punctuation():
    assert hd.is_punctuation(",") and hd.is_punctuation("##!") and hd.is_punctuation("'")
    assert not hd.is_punctuation("cat") and not hd.is_punctuation("[CLS]")
    assert not hd.is_punctuation("") and not hd.is_punctuation("a.")


def test_role_tags():
    stack = np.stack([previous_token(), one_hot_column(0), one_hot_column(T - 1), uniform()])
    tags = hd.role_tags(hd.head_stats(stack, TOKENS))
    assert tags[0] == "previous token"
    assert tags[1] == "[CLS] sink"
    assert tags[2] == "[SEP] sink"
    assert tags[3] == "broad / uniform"
    # every row on "cat" (a content word): no rule fires
    assert hd.role_tags(hd.head_stats(one_hot_column(2)[None], TOKENS))[0] == "mixed"
    both = hd.role_tags(
        hd.head_stats((0.5 * one_hot_column(0) + 0.5 * one_hot_column(T - 1))[None], TOKENS)
    )
    assert both[0] == "[CLS] sink, [SEP] sink"


def test_stats_table_rows():
    stack = np.stack([previous_token(), uniform()])[None]  # [L=1,N=2,T,T]
    rows = hd.stats_table(hd.head_stats(stack, TOKENS))
    assert [(r["layer"], r["head"]) for r in rows] == [(0, 0), (0, 1)]
    assert rows[0]["on previous token"] == 1.0 and rows[0]["role (heuristic)"] == "previous token"


def test_js_hand_cases():
    p = np.array([1.0, 0.0])
    q = np.array([0.0, 1.0])
    assert hd.js_divergence(p, q) == pytest.approx(math.log(2))
    assert hd.js_divergence(p, p) == pytest.approx(0.0)
    # p = (1,0), q = (½,½): m = (¾,¼); ½·ln(4/3) + ½·(½ln(2/3) + ½ln 2)
    expected = 0.5 * math.log(4 / 3) + 0.5 * (0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(2))
    assert hd.js_divergence(p, [0.5, 0.5]) == pytest.approx(expected)
    assert hd.head_js(previous_token(), previous_token()) == pytest.approx(0.0)
    assert hd.head_js(one_hot_column(0), one_hot_column(1)) == pytest.approx(math.log(2))


dists = st.integers(2, 9).flatmap(
    lambda n: st.tuples(
        *[st.lists(st.floats(0, 1), min_size=n, max_size=n).filter(lambda x: sum(x) > 1e-3)] * 2
    )
)


@settings(max_examples=60, deadline=None)
@given(dists)
def test_js_properties(pair):
    p, q = (np.array(x) / sum(x) for x in pair)
    d_pq, d_qp = hd.js_divergence(p, q), hd.js_divergence(q, p)
    assert d_pq == pytest.approx(d_qp, abs=1e-12)
    assert 0.0 <= d_pq <= math.log(2) + 1e-12
    assert hd.js_divergence(p, p) == pytest.approx(0.0, abs=1e-12)


def test_pairwise_js_and_cluster_order():
    a = np.stack([previous_token(), uniform(), previous_token(), uniform(), one_hot_column(0)])
    d = hd.pairwise_js(a.reshape(1, 5, T, T))
    assert d.shape == (5, 5) and np.allclose(d, d.T) and np.allclose(np.diag(d), 0)
    order = hd.cluster_order(np.sqrt(d))
    assert sorted(order) == list(range(5))
    pos = {h: i for i, h in enumerate(order)}
    assert abs(pos[0] - pos[2]) == 1 and abs(pos[1] - pos[3]) == 1  # equal heads sit together
    assert hd.cluster_order(np.zeros((1, 1))) == [0]


def test_kv_cache_formula():
    # Llama 3 8B at 8k tokens in fp16: 2 * 32 * 8 * 128 * 8192 * 2 bytes = 1 GiB
    assert kvc.kv_cache_bytes(32, 8, 128, 8192, 2) == 2 * 32 * 8 * 128 * 8192 * 2 == 2**30
    own, mha = kvc.model_kv_cache("Llama 3 8B", 8192)
    assert own == 2**30 and mha == 4 * 2**30
    own, mha = kvc.model_kv_cache("BERT-base", 512, 4)
    assert own == mha == 2 * 12 * 12 * 64 * 512 * 4
    assert kvc.human_bytes(2**30) == "1.00 GiB" and kvc.human_bytes(10) == "10 B"
    with pytest.raises(ValueError):
        kvc.kv_cache_bytes(0, 8, 128, 10)


def test_facts_rows_match_table():
    rows = {r["model"]: r for r in kvc.facts_rows()}
    assert rows["Llama 3 8B"]["KV heads"] == 8 and rows["Llama 3 8B"]["attention"] == "GQA"
    assert rows["all-MiniLM-L6-v2"]["head dim"] == 32 and rows["BERT-base"]["attention"] == "MHA"
    for n_layers, n_heads, d_model, head_dim, n_kv in kvc.MODEL_FACTS.values():
        assert n_heads * head_dim == d_model and n_heads % n_kv == 0 and n_layers > 0


@pytest.mark.parametrize(("n_heads", "n_kv"), [(1, 1), (4, 4), (4, 2), (8, 1), (16, 4)])
def test_toy_multihead_shapes(n_heads, n_kv):
    run = kvc.toy_multihead(5, 16, n_heads, n_kv, seed=3)
    assert run.weights.shape == (n_heads, 5, 5)
    assert np.allclose(run.weights.sum(-1), 1, atol=1e-5)
    assert run.concat.shape == (5, 16) and run.w_o.shape == (16, 16)
    assert np.allclose(run.concat @ run.w_o, run.output, atol=1e-4)
    assert run.kv_group == [i // (n_heads // n_kv) for i in range(n_heads)]
    with pytest.raises(ValueError):
        kvc.toy_multihead(5, 16, 3)


def test_url_keys_round_trip():
    parsed = up.parse({}, hv.PARAMS)
    assert parsed.notices == [] and parsed.values["pins"] == list(hv.DEFAULT_PINS)
    assert up.dump(parsed.values, hv.PARAMS) == {}  # the default view: a short link
    view = parsed.values | {"pins": [(1, 2), (3, 4)], "stat": "prev", "stats": "table"}
    view |= {"text": "Hi!", "view": "value-weighted", "kv": 2, "toy_n": 8}
    link = up.dump(view, hv.PARAMS)
    assert link["pins"] == "1.2,3.4" and link["view"] == "value-weighted" and link["kv"] == "2"
    again = up.parse(link, hv.PARAMS)
    assert again.notices == [] and again.values == view
    assert up.parse({"pins": ""}, hv.PARAMS).values["pins"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"pins": "garbage"},
        {"pins": "1.1,2.2,3.3,4.4,5.5"},
        {"pins": "-1.3"},
        {"pins": "1.1.1,;;"},
        {"stat": "<script>"},
        {"view": "3d"},
        {"stats": "pie"},
        {"kv": "5"},
        {"text": "   \x00\x01 "},
        {"text": ["a", "b"]},
        {"text": "x" * 5000},
    ],
)
def test_garbage_falls_back_with_a_notice_naming_the_key(params):
    parsed = up.parse(params, hv.PARAMS)
    assert len(parsed.notices) == 1
    key = next(iter(params))
    assert f"“{key}”" in parsed.notices[0]
    assert parsed.values[key] == next(p.default for p in hv.PARAMS if p.key == key)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from([p.key for p in hv.PARAMS] + ["zz"]), st.text()))
def test_parse_never_raises_and_never_echoes_values(params):
    parsed = up.parse(params, hv.PARAMS)
    pins = parsed.values["pins"]
    assert len(pins) <= hv.MAX_PINS and len(set(pins)) == len(pins)
    assert parsed.values["text"] and parsed.values["text2"]
    for notice in parsed.notices:  # a notice names keys, never a value from the link
        assert all(len(value) < 8 or value not in notice for value in params.values())


def test_valid_pins_for_a_model():
    assert hv.valid_pins([(5, 11), (0, 0), (5, 11), (6, 0), (0, 12)], 6, 12) == [(5, 11), (0, 0)]
    assert hv.valid_pins([(1, 1), (2, 2), (3, 3), (4, 4), (5, 5)], 6, 12) == [
        (1, 1),
        (2, 2),
        (3, 3),
        (4, 4),
    ]
    assert hv.valid_pins(["ab", None, (1,)], 6, 12) == []


def test_points_and_add_pins():
    points = [
        {"customdata": [5, 11]},
        {"customdata": [9, 0]},
        {"x": 1},
        "junk",
        {"customdata": "ab"},
    ]
    assert hv.pins_from_points(points, 6, 12) == [(5, 11)]
    assert hv.pins_from_points(None, 6, 12) == []
    # what the browser sends: numpy customdata as a dict; no customdata: the dot's grid index
    sent = [{"curve_number": 1, "point_index": 63, "customdata": {"0": 5, "1": 3}}]
    assert hv.pins_from_points(sent, 6, 12) == [(5, 3)]
    assert hv.pins_from_points([{"curve_number": 1, "point_index": 14}], 6, 12) == [(1, 2)]
    assert hv.pins_from_points([{"curve_number": 0, "point_index": 14}], 6, 12) == []
    pins = hv.add_pins([(0, 0), (1, 1), (2, 2), (3, 3)], [(5, 11), (1, 1)])
    assert pins == [(1, 1), (2, 2), (3, 3), (5, 11)]
    assert hv.add_pins(None, [(4, 7)]) == [(4, 7)] and hv.pin_label((4, 7)) == "L4 H7"


def test_csv_exports():
    csv = downloads.matrix_csv(np.eye(3), ["[CLS]", "=1+1", "[SEP]"])
    lines = csv.strip().splitlines()
    assert lines[0] == "query \\ key,[CLS],'=1+1,[SEP]"
    assert lines[2].startswith("'=1+1,0.000000,1.000000")
    with pytest.raises(ValueError):
        downloads.matrix_csv(np.eye(2), ["a"])
    assert downloads.table_csv([{"layer": 0, "head": 1}]).splitlines() == ["layer,head", "0,1"]


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
    diff = hf.difference(previous_token(), uniform(), ["<b>", *TOKENS[1:]])
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
    maps = np.stack([previous_token(), uniform(), uniform(), previous_token()])
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


def test_questions_are_computed_from_the_maps():
    prev = np.zeros((2, 3))
    prev[1, 2], prev[0, 1] = 0.9, -1.0
    stats = {"prev": prev}
    for seed in (0, 1):
        q = hd.previous_token_question(stats, seed)
        right = q.heads[q.question.answer]
        assert right == (1, 2) and q.question.options == ("head A", "head B")
        assert "90%" in q.question.reason
    raw = np.array([[0.8, 0.1], [0.2, 0.3]])
    for weighted, answer in ((raw * 0.3, 2), (raw, 1), (raw * 1.5, 0)):
        q = hd.sink_question(raw, weighted)
        assert q.heads[0] == (0, 0) and q.question.answer == answer
        assert "80%" in q.question.prompt


def test_beyond_figures_build():
    from ui.figures import beyond as bf

    bars = bf.special_share_bars([0.5, 0.3], [0.1, 0.2])
    assert [t.name for t in bars.data] == ["attention weight", "value-weighted"]
    thumbs = np.full((12, 4, 4), 0.25)
    heads = bf.gqa_heads(thumbs, thumbs, np.zeros(12), [h // 3 for h in range(12)], 4)
    assert len(heads.data) == 24 and not heads.layout.annotations  # no titles to collide
    assert heads.layout.xaxis13.title.text == "H0"
    trade = bf.gqa_tradeoff(bf.KV_CHOICES, [0, 0.1, 0.15, 0.18, 0.2, 0.22], [1, 0.7] + [0.6] * 4)
    assert list(trade.data[0].x) == ["12", "6", "4", "3", "2", "1"]
