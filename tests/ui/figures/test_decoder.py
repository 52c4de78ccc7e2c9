"""ui.figures.decoder: the training curves (with the loss on repeats when the log has it)."""

import numpy as np

from attn_jax.lessons import decoder_lessons as dl


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
