"""The RoPE lesson: rotations keep lengths, the rotated score depends only on the offset, and
the steps equal the model's own (`Decoder.rope_steps`, its rotated queries and keys)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import attn_jax
from attn_jax.lessons import rope
from attn_jax.lessons.real_steps import model_rope_steps

DATA = Path(__file__).resolve().parents[2] / "data"
TEXT = "def f(x):\n    return x + 1  # one more than x"


@pytest.fixture(scope="module", params=["llama-tiny", "mistral-tiny"])
def model(request):
    return attn_jax.load_decoder(DATA / request.param)


def test_frequencies_are_base_to_the_minus_two_i_over_h():
    theta = rope.frequencies(8, 10_000.0)
    np.testing.assert_allclose(theta, [1.0, 0.1, 0.01, 0.001])  # 10000^(-2i/8)
    with pytest.raises(ValueError, match="even"):
        rope.frequencies(7, 10_000.0)


def test_hand_computed_quarter_turn():
    # H = 2, base irrelevant for i = 0 (θ_0 = 1): position m turns by m radians
    x = np.array([[1.0, 0.0]] * 3, np.float32)
    out = rope.rotate_at(x, [0, 1, np.pi / 2], 10_000.0)
    np.testing.assert_allclose(out[0], [1, 0], atol=1e-6)
    np.testing.assert_allclose(out[1], [np.cos(1), np.sin(1)], atol=1e-6)
    np.testing.assert_allclose(out[2], [0, 1], atol=1e-6)  # π/2 (a float position) is 90°


@settings(max_examples=25, deadline=None)
@given(t=st.integers(2, 9), half=st.integers(1, 5), seed=st.integers(0, 99),
       base=st.sampled_from([100.0, 10_000.0, 500_000.0]))  # fmt: skip
def test_rotation_keeps_norms_and_pairs(t, half, seed, base):
    rng = np.random.default_rng(seed)
    q, k = rng.normal(size=(2, t, 2 * half)).astype(np.float32)
    steps = rope.rope_steps(q, k, base)
    for raw, rot in ((steps.q_raw, steps.q), (steps.k_raw, steps.k)):
        np.testing.assert_allclose(np.linalg.norm(rot, axis=1), np.linalg.norm(raw, axis=1),
                                   rtol=1e-5)  # fmt: skip
        for i in range(half):  # each pair keeps its own length too, and turns by m·θ_i
            before, after = rope.pair_vectors(raw, i), rope.pair_vectors(rot, i)
            np.testing.assert_allclose(np.hypot(*after.T), np.hypot(*before.T), rtol=1e-4,
                                       atol=1e-5)  # fmt: skip
    np.testing.assert_allclose(steps.q[0], q[0], atol=1e-6)  # position 0: no turn
    assert steps.angles.shape == (t, half) and steps.theta.shape == (half,)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 99), n=st.integers(3, 20))
def test_score_depends_only_on_the_offset(seed, n):
    rng = np.random.default_rng(seed)
    q, k = rng.normal(size=(2, 12)).astype(np.float32)
    offsets = [0, 1, 2, n - 1]
    dots = rope.offset_dots(q, k, offsets, n, 10_000.0)  # [offsets, n]
    curve = rope.offset_curve(q, k, n, 10_000.0)
    for row, d in enumerate(offsets):
        line = dots[row][np.isfinite(dots[row])]
        assert len(line) == n - d  # key positions 0 … n-1-d
        np.testing.assert_allclose(line, curve[d], atol=1e-5 * max(1.0, abs(curve[d])))
    assert curve[0] == pytest.approx(float(q.astype(np.float64) @ k), rel=1e-5)


def test_offset_means_and_the_decay_bound():
    scores = np.arange(16, dtype=float).reshape(4, 4)
    mask = np.tri(4, dtype=bool)
    np.testing.assert_allclose(rope.offset_means(scores, mask), [7.5, 9.0, 10.5, 12.0])
    window = mask & (np.arange(4)[:, None] - np.arange(4)[None] < 2)
    assert np.isnan(rope.offset_means(scores, window)[2:]).all()
    bound = rope.decay_bound(200, 64, 10_000.0)
    assert bound[0] == pytest.approx(16.5)  # (1/32) Σ_j j at d = 0
    assert bound[100:].max() < 0.5 * bound[0]  # RoFormer's long-term decay


def test_equals_the_models_rope_steps(model):
    ids = model.tokenizer.encode(TEXT)[0]
    out = model.run(TEXT)
    for layer, head in [(0, 0), (1, 3), (1, 2)]:
        ours = model_rope_steps(model, TEXT, layer, head, run=out)
        ref = model.rope_steps(ids, layer, head)
        pairs = {"q_raw": "q", "k_raw": "k", "q": "q_rot", "k": "k_rot", "cos": "cos",
                 "sin": "sin", "angles": "angles"}  # fmt: skip
        for mine, theirs in pairs.items():
            np.testing.assert_allclose(getattr(ours, mine), ref[theirs], atol=1e-5)
        assert ours.kv_group == int(ref["kv_group"]) == head // 2
        np.testing.assert_allclose(ours.q, out.queries[layer, head], atol=1e-5)
        np.testing.assert_allclose(ours.k, out.keys[layer, ours.kv_group], atol=1e-5)
        assert ours.base == model.config.rope_theta


def test_pair_out_of_range_is_refused():
    with pytest.raises(ValueError, match="pair 4"):
        rope.pair_vectors(np.zeros((3, 8)), 4)
