"""attn_jax.lessons.decoder_lessons on the shipped decoder: predictions, the training log,
the KV cache against a full run; and the Concept page's decoder view through AppTest."""

import numpy as np
import pytest

from attn_jax import load_decoder
from attn_jax.lessons import decoder_lessons as dl
from tests.apptest import page_test
from ui.app.content import EXAMPLE


@pytest.fixture(scope="module")
def dec():
    return load_decoder()


def test_next_token_table_has_a_row_per_token(dec):
    out = dec.run(EXAMPLE)
    rows = dl.next_token_table(dec, out, k=5)
    assert len(rows) == len(out.tokens)
    assert list(rows[0]) == ["position", "token", "next 1", "next 2", "next 3", "next 4", "next 5"]
    probs = out.top_next_probs[:, :5]
    assert np.all(np.diff(probs, axis=1) <= 0) and np.all(probs.sum(axis=1) <= 1 + 1e-5)


def test_training_curves_read_the_shipped_log(dec, tmp_path):
    curves = dl.training_curves(dec.path)
    assert curves is not None and len(curves.steps) > 10
    assert curves.loss[-1] < curves.loss[0]
    n_layer, n_head = dec.config.n_layer, dec.config.n_head
    assert curves.induction.shape == (len(curves.probe_steps), n_layer, n_head)
    best = curves.best_induction()
    assert best.shape == curves.probe_steps.shape and np.all((best >= 0) & (best <= 1))
    step = curves.phase_change(float(best.max()))  # the first probe at the best score
    assert step == int(curves.probe_steps[np.argmax(best)])
    assert curves.phase_change(1.01) is None
    assert dl.training_curves(tmp_path) is None


def test_training_curves_show_the_loss_on_repeats_when_logged(tmp_path):
    import json

    from ui.figures.decoder import training_curves

    probe = [{"step": s, "scores": [[0.1, 0.2]]} for s in (0, 10)]
    base = {"val": [{"step": 0, "val_loss": 8.0}], "induction": probe, "wall_s": 60.0}
    train = [
        {"step": 10, "loss": None, "short_loss": 7.5},
        {"step": 20, "loss": 6.0, "short_loss": 7.0},
    ]
    (tmp_path / "training_log.json").write_text(json.dumps({**base, "train": train}))
    curves = dl.training_curves(tmp_path)
    np.testing.assert_array_equal(curves.short_loss, [7.5, 7.0])
    assert np.isnan(curves.loss[0]) and curves.loss[1] == 6.0  # a phase without text
    names = [trace.name for trace in training_curves(curves).data]
    assert "loss on repeated random tokens" in names and len(names) == 4
    plain = [{k: v for k, v in row.items() if k != "short_loss"} for row in train]
    (tmp_path / "training_log.json").write_text(json.dumps({**base, "train": plain}))
    curves = dl.training_curves(tmp_path)
    assert curves.short_loss is None and len(training_curves(curves).data) == 3


def test_kv_cache_generation_equals_the_full_run(dec):
    check = dl.kv_cache_check(dec, EXAMPLE, n_new=6)
    assert len(check.new_tokens) == 6 and check.max_abs_diff < 1e-3
    cfg = dec.config
    assert check.bytes_per_token == 2 * cfg.n_layer * cfg.n_head * cfg.head_dim * 4
    assert check.cache_bytes == check.bytes_per_token * (check.prompt_tokens + 6)


@pytest.mark.parametrize("tab", ["next", "sinks", "induction", "training", "cache"])
def test_concept_page_with_the_decoder(tab):
    at = page_test("concept", query={"source": "decoder", "llm": tab, "chart": "heatmap"}).run()
    assert not at.exception and not at.warning
    assert at.radio(key="concept_source").value == "decoder"
    assert dict(at.query_params)["source"] == "decoder"
    keys = [c.key for c in at.get("plotly_chart")]
    assert "main_heatmap" in keys
    expected = {"sinks": "decoder_sinks", "induction": "decoder_induction",
                "training": "decoder_training"}  # fmt: skip
    if tab in expected:
        assert expected[tab] in keys
    if tab == "next":
        assert len(at.dataframe) >= 1  # the predictions
    if tab == "cache":
        assert any(m.label.startswith("max |cached") for m in at.metric)
