"""ui.views.beyond without a page: every view's maps are row distributions, rollout has no
heads, and the [CLS]/[SEP] share survives per layer."""

import numpy as np

from tests.helpers import attention_and_values


def test_maps_for_each_view_are_row_distributions():
    from types import SimpleNamespace

    from ui.views import beyond as bv

    attn, values, w_o = attention_and_values(rng=np.random.default_rng(7))
    out = SimpleNamespace(
        text="x", tokens=["[CLS]", "a", "b", "c", "[SEP]"], attentions=attn.astype(np.float32)
    )
    out.values = values
    model = SimpleNamespace(output_weights=lambda: w_o, source_label="tiny")
    for view in bv.VIEWS:
        maps = bv.maps_for_view(out, view, model)
        assert maps.shape == attn.shape
        np.testing.assert_allclose(maps.sum(-1), 1.0, atol=1e-5)
    rolled = bv.maps_for_view(out, "rollout", model)
    np.testing.assert_array_equal(rolled[:, 0], rolled[:, 2])  # rollout has no heads
    assert bv.maps_for_view(out, "raw", model) is out.attentions
    raw, weighted = bv.special_survival(out, model)
    assert raw.shape == weighted.shape == (2,)
