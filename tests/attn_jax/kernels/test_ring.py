"""ring_attention on 8 forced CPU host devices, in a subprocess (the device count is fixed
when jax starts): equal to attention for P = 1, 2, 4, 8, causal or not, grouped-query."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from attn_jax import ring_attention

ROOT = Path(__file__).resolve().parents[3]

CHILD = textwrap.dedent(
    """
    import json
    import jax, numpy as np
    from jax.sharding import Mesh
    from attn_jax import attention, ring_attention, sequence_sharding

    rng = np.random.default_rng(3)
    cases = [  # b, t, s, n, kv heads, h, causal
        (1, 16, 16, 3, 3, 4, False), (2, 16, 16, 4, 2, 4, True),
        (1, 8, 24, 2, 1, 4, False), (1, 24, 8, 2, 2, 4, True), (1, 40, 40, 3, 3, 5, True),
    ]
    out = {"devices": len(jax.devices()), "errors": {}, "sharded": {}}
    for p in (1, 2, 4, 8):
        mesh = Mesh(np.array(jax.devices()[:p]), ("seq",))
        worst = 0.0
        for b, t, s, n, kv, h, causal in cases:
            q = rng.normal(size=(b, t, n, h)).astype(np.float32)
            k, v = (rng.normal(size=(b, s, kv, h)).astype(np.float32) for _ in "kv")
            want = attention(q, k, v, is_causal=causal)
            q_s = jax.device_put(q, sequence_sharding(mesh, "seq"))
            kc = 3 if t == 40 else 256  # blocks of 40 / P keys folded 3 at a time: ragged
            got = ring_attention(
                q_s, k, v, mesh=mesh, axis_name="seq", is_causal=causal, k_chunk=kc
            )
            worst = max(worst, float(np.abs(np.asarray(got) - np.asarray(want)).max()))
            shards = {sh.data.shape[1] for sh in got.addressable_shards}
        out["errors"][p] = worst
        out["sharded"][p] = sorted(shards)  # each device holds T/P query rows
    try:
        ring_attention(q[:, :7], k, v, mesh=mesh, axis_name="seq")
    except ValueError as exc:
        out["ragged"] = str(exc)
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def child():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_eight_forced_host_devices(child):
    assert child["devices"] == 8


@pytest.mark.parametrize("p", ["1", "2", "4", "8"])
def test_equals_attention_on_p_devices(child, p):
    assert child["errors"][p] < 1e-5


def test_output_stays_split_along_the_sequence(child):
    assert child["sharded"]["8"] == [5]  # the last case, T = 40 over 8 devices
    assert child["sharded"]["1"] == [40]


def test_lengths_not_divisible_by_p_are_refused(child):
    assert "multiples of P=8" in child["ragged"]


def test_one_device_in_this_process():
    import jax
    from jax.sharding import Mesh

    from attn_jax import attention

    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(1, 6, 2, 4)).astype(np.float32) for _ in "qkv")
    mesh = Mesh(np.array(jax.devices()[:1]), ("seq",))
    got = ring_attention(q, k, v, mesh=mesh, axis_name="seq", is_causal=True)
    np.testing.assert_allclose(got, attention(q, k, v, is_causal=True), atol=1e-5)
    with pytest.raises(ValueError, match="axes"):
        ring_attention(q, k, v, mesh=mesh, axis_name="devices")
