"""Attention rollout: a hand-computed case, and invariants on random maps."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attn_jax import rollout


def test_two_layers_three_tokens_by_hand():
    # one head per layer, so the head mean is the map itself
    a0 = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    a1 = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    r = rollout(np.stack([a0, a1])[:, None])
    # Â_0 = ½·a0 + ½·I
    hat0 = np.array([[1.0, 0.0, 0.0], [0.25, 0.75, 0.0], [0.0, 0.0, 1.0]])
    # Â_1 = ½·a1 + ½·I = [[.5,.5,0],[0,1,0],[.5,0,.5]]; R_1 = Â_1 · Â_0
    r1 = np.array([[0.625, 0.375, 0.0], [0.25, 0.75, 0.0], [0.5, 0.0, 0.5]])
    np.testing.assert_allclose(r[0], hat0)
    np.testing.assert_allclose(r[1], r1)


def test_heads_are_averaged():
    eye, flip = np.eye(2), np.array([[0.0, 1.0], [1.0, 0.0]])
    r = rollout(np.stack([eye, flip])[None])  # [L=1,N=2,2,2]: mean = ½ everywhere
    np.testing.assert_allclose(r[0], [[0.75, 0.25], [0.25, 0.75]])


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 7), st.integers(0, 2**31 - 1))
def test_rows_stay_distributions(n_layers, n_heads, t, seed):
    rng = np.random.default_rng(seed)
    attn = rng.dirichlet(np.ones(t), size=(n_layers, n_heads, t))
    r = rollout(attn)
    assert r.shape == (n_layers, t, t)
    assert (r >= 0).all()
    np.testing.assert_allclose(r.sum(-1), 1.0, atol=1e-12)
    # each layer keeps at least half of a token on itself through the residual: R_0 ≥ ½·I
    assert (np.diagonal(r[0], axis1=-2, axis2=-1) >= 0.5 - 1e-12).all()


def test_rejects_wrong_shapes():
    with pytest.raises(ValueError):
        rollout(np.ones((2, 3, 3)))
    with pytest.raises(ValueError):
        rollout(np.ones((1, 1, 3, 4)))
