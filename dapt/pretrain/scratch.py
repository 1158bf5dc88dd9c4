"""The ``scratch`` variant inside a run (the PubMedBERT question): a vocabulary trained on the domain corpus, the
base's architecture with fresh weights, and the domain corpus packed again with that vocabulary.

How it differs from vocabulary extension (``pretrain.extend_vocab_words``): extension keeps the base's weights and
every old token, and adds a few hundred whole domain words (their embeddings the mean of their old pieces); scratch
keeps nothing of the base but its shape, so all of its knowledge comes from the domain corpus and its budget.

The tokenizer learns from the training documents only: held-out documents (which measure perplexity) are packed
with it but never shape it, and the corpus was already decontaminated against every task's dev and test text.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import torch

from dapt.ingest import heldout_ids, iter_documents
from dapt.pretrain.vocab_extension import repack_documents
from dapt.recipe import PretrainConfig, ScratchConfig
from dapt.run.context import RunContext
from dapt.run.plan import PretrainJob

log = logging.getLogger("dapt")


def train_domain_tokenizer(base_tokenizer, docs, cfg: ScratchConfig):
    """A tokenizer of the base's kind (same normaliser, pre-tokenizer, special tokens and model type: WordPiece for
    BERT, byte-level BPE for GPT-2/Llama...) with a vocabulary learned from the documents ``docs`` (``{"id",
    "text"}``)."""
    texts = (d["text"] for d in docs)
    return base_tokenizer.train_new_from_iterator(texts, vocab_size=cfg.vocab_size, min_frequency=cfg.min_frequency)


def fresh_model(base_dir: Path, tokenizer, objective: str, seed: int, trust_remote_code: bool = False):
    """The base's architecture (its config: layers, hidden size, heads...) with random weights, sized to
    ``tokenizer``'s vocabulary and its special-token ids."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForMaskedLM

    config = AutoConfig.from_pretrained(base_dir, trust_remote_code=trust_remote_code)
    config.vocab_size = len(tokenizer)
    for name in ("pad_token_id", "bos_token_id", "eos_token_id"):
        if getattr(tokenizer, name, None) is not None:
            setattr(config, name, getattr(tokenizer, name))
    auto = AutoModelForCausalLM if objective == "clm" else AutoModelForMaskedLM
    torch.manual_seed(seed)
    return auto.from_config(config, trust_remote_code=trust_remote_code, dtype=torch.float32)


def prepare_scratch(ctx: RunContext, job: PretrainJob, cfg: PretrainConfig, progress: bool) -> tuple[Path, Path]:
    """``<job>/scratch/init`` (fresh model + domain tokenizer) and ``<job>/scratch/corpus/dataset`` (the domain
    corpus's training documents as ``train``, its held-out documents as ``heldout``, both in the new vocabulary)."""
    from transformers import AutoTokenizer

    r = ctx.recipe
    corpus_dir, out = ctx.layout.corpus_dir, ctx.layout.job_dir(job) / "scratch"
    base_dir = ctx.model_dir("baseline")
    base_tok = AutoTokenizer.from_pretrained(base_dir, trust_remote_code=r.trust_remote_code)
    tokenizer = train_domain_tokenizer(base_tok, iter_documents(corpus_dir), r.scratch)  # training documents only
    model = fresh_model(base_dir, tokenizer, cfg.objective, r.scratch.seed, r.trust_remote_code)
    model.save_pretrained(out / "init", safe_serialization=True)
    tokenizer.save_pretrained(out / "init")
    log.info("%s: domain vocabulary of %d pieces; fresh %s", job.key, len(tokenizer), type(model).__name__)

    held = heldout_ids(corpus_dir)
    train = repack_documents(
        iter_documents(corpus_dir), out / "train", "train_documents", "domain", tokenizer, cfg.block_size,
        r.pretrain.seed, progress, "domain corpus, domain vocabulary",
    )  # fmt: skip
    held_docs = (d for d in iter_documents(corpus_dir, include_heldout=True) if d["id"] in held)
    heldout = repack_documents(
        held_docs, out / "heldout", "heldout_documents", "domain", tokenizer, cfg.block_size, r.pretrain.seed,
        progress, "domain held-out documents, domain vocabulary",
    )  # fmt: skip
    # One dataset folder with both splits, laid out like an ingested corpus's.
    dataset = out / "corpus" / "dataset"
    shutil.rmtree(out / "corpus", ignore_errors=True)
    dataset.parent.mkdir(parents=True)
    shutil.move(str(train), str(dataset))
    shutil.rmtree(dataset / "heldout", ignore_errors=True)  # empty: everything was packed as train
    shutil.move(str(heldout / "train"), str(dataset / "heldout"))
    shutil.copy(out / "train" / "corpus" / "stats.json", out / "corpus" / "stats.json")
    report = tokenizer_report(base_tok, tokenizer, ctx, held)
    (out / "tokenizer.json").write_text(json.dumps(report, indent=2))
    return out / "init", dataset


def tokenizer_report(base_tok, domain_tok, ctx: RunContext, held: set[str]) -> dict:
    """Fertility (tokens per word unit) of both tokenizers on the domain held-out documents, the general corpus and
    each task's train text, and how much of the domain vocabulary the base vocabulary already has. ``held``: the
    corpus's held-out document ids."""
    from dapt.ingest import fertility
    from dapt.tasks import load_split

    docs = iter_documents(ctx.layout.corpus_dir, include_heldout=True)
    texts = {"domain (held-out)": [d["text"] for d in docs if d["id"] in held]}
    if ctx.recipe.general_corpus and (ctx.layout.general_dir / "documents.jsonl.gz").is_file():
        texts["general"] = [d["text"] for d in iter_documents(ctx.layout.general_dir, include_heldout=True)][:20_000]
    for t in ctx.recipe.tasks:
        texts[f"{t.name} train"] = [e.text for e in load_split(t, "train", ctx.data_root).examples]
    base_vocab, domain_vocab = set(base_tok.get_vocab()), set(domain_tok.get_vocab())
    return {
        "vocab_size": {"base": len(base_tok), "domain": len(domain_tok)},
        "domain_pieces_in_base_vocab": round(len(domain_vocab & base_vocab) / len(domain_vocab), 4),
        "fertility": {
            name: {"base": round(fertility(base_tok, ts), 4), "domain": round(fertility(domain_tok, ts), 4)}
            for name, ts in texts.items()
            if ts
        },
    }
