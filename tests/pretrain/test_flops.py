from dapt.pretrain.flops import flops_per_token, mfu, non_embedding_params


def test_flops_formula():
    assert flops_per_token(1_000_000, 2, 128, 128) == 6e6 + 12 * 2 * 128 * 128
    # The output projection (vocab x hidden) is paid at head_fraction of the positions.
    assert flops_per_token(10, 0, 4, 0, vocab_size=100, head_fraction=0.5) == 6 * (10 + 0.5 * 100 * 4)


def test_mfu():
    assert mfu(1000, 1e6, 1e12) == 1e-3


def test_non_embedding_params_excludes_embeddings(tiny_mlm_dir):
    from transformers import AutoModelForMaskedLM

    m = AutoModelForMaskedLM.from_pretrained(tiny_mlm_dir)
    emb = sum(p.numel() for p in m.bert.embeddings.parameters() if p.dim() == 2)
    assert non_embedding_params(m) < sum(p.numel() for p in m.parameters()) - emb + 1
