"""ui.figures.beyond: the [CLS]/[SEP] share bars, GQA head maps and the trade-off."""

import numpy as np


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
