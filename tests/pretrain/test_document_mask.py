import torch
from transformers import AutoModelForMaskedLM

from dapt.pretrain.document_mask import document_attention_mask, document_segments

SEP, CLS, PAD = 102, 101, 0


def test_segments_follow_separators():
    ids = torch.tensor([[CLS, 5, 6, SEP, 7, SEP, 8, SEP, PAD]])
    assert document_segments(ids, SEP).tolist() == [[0, 0, 0, 0, 1, 1, 2, 2, 3]]


def test_tokens_cannot_see_other_documents(tiny_mlm_dir):
    torch.manual_seed(0)
    model = AutoModelForMaskedLM.from_pretrained(tiny_mlm_dir).eval()
    a = torch.tensor([[CLS, 2000, 2001, 2002, SEP, 3000, 3001, SEP, PAD, PAD]])
    b = a.clone()
    b[0, 1:4] = torch.tensor([4000, 4001, 4002])  # change the first document only
    attn = (a != PAD).long()
    mask = document_attention_mask(a, attn, SEP, torch.float32)
    with torch.no_grad():
        ha = model.base_model(input_ids=a, attention_mask=mask).last_hidden_state
        hb = model.base_model(input_ids=b, attention_mask=mask).last_hidden_state
        # The second document's states do not move; without the document mask they do.
        assert torch.allclose(ha[0, 5:8], hb[0, 5:8], atol=1e-6)
        assert not torch.allclose(ha[0, 1:4], hb[0, 1:4], atol=1e-3)
        fa = model.base_model(input_ids=a, attention_mask=attn).last_hidden_state
        fb = model.base_model(input_ids=b, attention_mask=attn).last_hidden_state
        assert not torch.allclose(fa[0, 5:8], fb[0, 5:8], atol=1e-4)
        assert torch.isfinite(ha).all()  # padding rows attend to themselves: no NaN


def test_pretrain_runs_with_document_mask(tmp_path, data_root, splade_dir, tiny_mlm_dir):
    from transformers import AutoTokenizer

    from dapt.ingest import run_ingest
    from dapt.pretrain import run_pretrain
    from dapt.recipe import CorpusConfig, CorpusSource, PretrainConfig

    cfg = CorpusConfig(
        sources=[CorpusSource(name="p", path="biomed_unlabelled/pubmedqa/abstracts.txt", max_documents=60)]
    )
    tok = AutoTokenizer.from_pretrained(splade_dir)
    ing = run_ingest(cfg, data_root, tmp_path / "c", tok, 64, 0.1, progress=False)
    pcfg = PretrainConfig(max_tokens=64 * 8 * 6, block_size=64, batch_size=8, document_mask=True, log_every_steps=2)
    res = run_pretrain(pcfg, tiny_mlm_dir, ing.dataset_dir, tmp_path / "p", progress=False)
    s = res.summary
    assert s["steps"] == 6 and s["heldout_ppl_after"] < s["heldout_ppl_before"]
