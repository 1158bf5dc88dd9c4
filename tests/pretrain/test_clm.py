"""Causal-LM continued pretraining (GPT-2/Llama-style decoders) on a BPE tokenizer built here."""

import json

import pytest
import torch

from dapt.ingest import run_ingest
from dapt.pretrain import run_pretrain
from dapt.pretrain.data import lm_batch
from dapt.pretrain.lm import LMLoss
from dapt.recipe import CorpusConfig, CorpusSource, PretrainConfig


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory, data_root):
    """A 2-layer Llama with a byte-level BPE tokenizer trained on biomedical text (bos/eos as SmolLM2 has)."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    text = (data_root / "biomed_unlabelled/pubmedqa/abstracts.txt").read_text().splitlines()[:500]
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(text, vocab_size=1000, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    tok = PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer, bos_token="<|im_start|>", eos_token="<|im_end|>", pad_token="<|im_end|>"
    )
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        tie_word_embeddings=True,
    )
    out = tmp_path_factory.mktemp("tiny_llama")
    LlamaForCausalLM(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return out


def test_clm_loss_is_the_models_own(tiny_llama):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_llama)
    ids = torch.randint(3, 1000, (2, 16), generator=torch.Generator().manual_seed(0))
    attn = torch.ones_like(ids)
    attn[1, 12:] = 0
    inputs, labels = lm_batch(ids, attn, None, PretrainConfig(max_tokens=1, objective="clm"), None)
    assert (labels[1, 12:] == -100).all() and torch.equal(inputs, ids)
    ours = LMLoss(model, "clm")(inputs, attn, labels)
    logits = model(input_ids=ids, attention_mask=attn).logits[:, :-1]
    ref = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1))
    torch.testing.assert_close(ours, ref)


def test_clm_pretraining_learns_and_exports(tmp_path, tiny_llama, data_root):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_llama)
    corpus = CorpusConfig(
        sources=[CorpusSource(name="p", path="biomed_unlabelled/pubmedqa/abstracts.txt", max_documents=200)]
    )
    ing = run_ingest(corpus, data_root, tmp_path / "c", tok, 64, 0.1, progress=False)
    cfg = PretrainConfig(
        objective="clm", max_tokens=64 * 16 * 40, block_size=64, batch_size=16, learning_rate=3e-3, log_every_steps=10
    )
    s = run_pretrain(cfg, tiny_llama, ing.dataset_dir, tmp_path / "pre", progress=False).summary
    assert s["objective"] == "clm" and s["heldout_ppl_after"] < 0.5 * s["heldout_ppl_before"]
    assert s["mfu"] > 0
    recs = [json.loads(x) for x in (tmp_path / "pre" / "metrics.jsonl").read_text().splitlines()]
    assert any("tokens_per_s" in r for r in recs)
    AutoModelForCausalLM.from_pretrained(tmp_path / "pre" / "model")


def test_decoder_classifier_pools_the_last_real_token(tiny_llama):
    from dapt.finetune.model import SequenceClassifier, load_encoder

    enc = load_encoder(tiny_llama, 0.0)
    model = SequenceClassifier(enc, 3, 0.0).eval()
    assert model.pool_last
    ids = torch.tensor([[5, 6, 7, 8], [5, 6, 2, 2]])
    attn = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    with torch.no_grad():
        hidden = enc(input_ids=ids, attention_mask=attn).last_hidden_state
        torch.testing.assert_close(model(ids, attn), model.head(torch.stack([hidden[0, 3], hidden[1, 1]])))
