"""ui.figures.complexity: the sweep's time, memory and GFLOP/s figures, log ticks, ring memory."""

import numpy as np
import pandas as pd

from attn_jax.bench import sweep as cx
from ui.figures import complexity as cf
from ui.figures.base import log_ticks

NS = np.array([128, 256, 512, 1024, 2048])


def _table():
    rows = [("attention", n, 1e-4 * n * n, 1.0, 5.0, "ok") for n in NS]
    rows += [("conv1d", n, 0.01 * n, 1.0, 9.0, "ok") for n in NS]
    rows += [("jax.nn", 4096, np.nan, np.nan, np.nan, "skipped: cap")]
    return pd.DataFrame(
        rows, columns=["method", "n", "median_ms", "compile_ms", "gflops", "status"]
    )


def test_time_figure_has_slopes_in_legend_and_log_axes():
    table = _table()
    fig = cf.time_figure(table, cx.slopes(table))
    names = [trace.name for trace in fig.data]
    assert names == ["attention (plain) · slope 2.00", "1-D convolution · slope 1.00"]
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"


def test_memory_and_gflops_figures():
    fig = cf.memory_figure([128, 256], [2**20, 2**22], [2**19, 2**20], cap_bytes=2**23)
    assert list(fig.data[0].y) == [1.0, 4.0] and list(fig.data[1].y) == [0.5, 1.0]
    assert list(fig.data[2].y) == [8.0, 8.0] and "cap" in fig.data[2].name  # the cap, in MiB
    gf = cf.gflops_figure(_table(), 123.0)
    assert len(gf.data) == 3 and list(gf.data[2].y) == [123.0, 123.0]
    assert list(gf.data[2].x) == [128, 2048]  # spans the measured lengths


def test_log_ticks_are_1_2_5_and_cover_the_data():
    assert log_ticks([3.0, 40.0]) == [2.0, 5.0, 10.0, 20.0, 50.0]
    assert log_ticks([np.nan, -1.0]) == []


def test_time_figure_says_where_the_slopes_were_fitted():
    table = _table()
    fig = cf.time_figure(table, cx.slopes(table), fit_from=512)
    assert "n ≥ 512" in fig.layout.annotations[0].text


def test_ring_figures():
    rows = [dict(P=p, kv_bytes=2**24 // p, xla_bytes=2**26 // p) for p in (1, 2, 4, 8)]
    fig = cf.ring_memory_figure(rows)
    np.testing.assert_allclose(fig.data[2].y, [64, 32, 16, 8])  # the 1/P line in MiB
    steps = cf.ring_steps_figure(4)
    z = np.asarray(steps.data[0].z)
    assert z[1, 0] == 1 and z[1, 1] == 0 and z[0, 1] == 3  # block (device - step) mod P
