"""ui.views.multihead without a page: its URL keys round-trip, bad values fall back with a
notice naming the key, pins are validated, clicked and added."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ui.app import url_params as up
from ui.views import multihead as hv


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
