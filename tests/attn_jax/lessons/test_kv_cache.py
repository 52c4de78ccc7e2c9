"""attn_jax.lessons.kv_cache: the KV-cache formula, the facts table, the toy multi-head run."""

import numpy as np
import pytest

from attn_jax.lessons import kv_cache as kvc


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


def test_kv_cache_per_thousand_tokens_mha_gqa_mqa():
    rows = kvc.kv_per_thousand_rows({"tiny": (4, 4, 32, 2)}, bytes_per_value=4)
    assert [r["model"] for r in rows] == ["tiny", "Llama 3 8B", "Qwen3-8B", "Mistral 7B"]
    tiny, llama = rows[0], rows[1]
    assert tiny["as published"] == kvc.human_bytes(2 * 4 * 2 * 32 * 1000 * 4)
    assert tiny["MHA"] == kvc.human_bytes(2 * 4 * 4 * 32 * 1000 * 4)
    assert tiny["MQA"] == kvc.human_bytes(2 * 4 * 1 * 32 * 1000 * 4)
    # Llama 3 8B: 2 x 32 x 8 x 128 x 4 bytes = 256 KiB a token (128 KiB in bf16, FACTS)
    assert llama["as published"] == "250.00 MiB" and llama["saved vs MHA"] == "75%"
