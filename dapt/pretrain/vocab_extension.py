"""Vocabulary extension inside a run: the extended tokenizer and model a DAPT job starts from, and the domain corpus
re-packed with that tokenizer."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from dapt.ingest import iter_documents, run_ingest, write_documents
from dapt.recipe import PretrainConfig
from dapt.run.context import RunContext
from dapt.run.plan import PretrainJob

log = logging.getLogger("dapt")


def extend_for_job(
    ctx: RunContext, job: PretrainJob, init: Path, cfg: PretrainConfig, progress: bool
) -> tuple[Path, Path]:
    """Extended tokenizer + model (``<job>/extended/init``) and the domain corpus re-packed with it
    (``<job>/extended/corpus``). Held-out perplexity stays on the base tokenization (old ids keep their
    meaning), so it is comparable across variants."""
    from transformers import AutoTokenizer

    from dapt.pretrain.lm import load_lm
    from dapt.pretrain.vocab import extend_vocabulary, find_domain_words

    r = ctx.recipe
    corpus_dir = ctx.layout.corpus_dir
    out = ctx.layout.job_dir(job) / "extended"
    tokenizer = AutoTokenizer.from_pretrained(init, trust_remote_code=r.trust_remote_code)
    # Training documents only: held-out text must not pick the new words nor be trained on after re-packing.
    words = find_domain_words(
        (d["text"] for d in iter_documents(corpus_dir)), tokenizer, cfg.extend_vocab_words, cfg.extend_vocab_min_count
    )
    model = load_lm(init, cfg.objective, r.trust_remote_code)
    extend_vocabulary(model, tokenizer, [w.word for w in words])
    model.save_pretrained(out / "init", safe_serialization=True)
    tokenizer.save_pretrained(out / "init")
    (out / "words.json").write_text(
        json.dumps([{"word": w.word, "count": w.count, "pieces": w.pieces} for w in words], indent=1)
    )
    log.info("%s: vocabulary +%d domain words (e.g. %s)", job.key, len(words), ", ".join(w.word for w in words[:8]))
    # Held-out perplexity stays on the base corpus's held-out blocks: only the training documents are re-packed.
    dataset = repack_documents(
        iter_documents(corpus_dir),
        out,
        "train_documents",
        "domain",
        tokenizer,
        cfg.block_size,
        r.pretrain.seed,
        progress,
        "domain corpus, extended vocabulary",
    )
    return out / "init", dataset


def retokenize_task_corpus(ctx: RunContext, job: PretrainJob, model_dir: Path, progress: bool) -> Path:
    """``dapt+tapt`` after an extended DAPT model: its TAPT corpus packed again with that model's tokenizer (so the
    new domain words are single tokens there too), in ``<job>/extended/corpus``; the budget stays that of the base
    tokenization, the same as ``tapt``'s."""
    from transformers import AutoTokenizer

    r = ctx.recipe
    out = ctx.layout.job_dir(job) / "extended"
    tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=r.trust_remote_code)
    # A TAPT corpus has no held-out split (heldout_fraction 0): every document is training text.
    docs = iter_documents(ctx.layout.job_corpus_dir(job), include_heldout=True)
    dataset = repack_documents(
        docs,
        out,
        "task_documents",
        "task",
        tokenizer,
        r.pretrain.block_size,
        r.pretrain.seed,
        progress,
        f"{job.task} TAPT corpus, extended vocabulary",
    )
    log.info("%s: TAPT corpus re-packed with the extended tokenizer of %s", job.key, model_dir)
    return dataset


def repack_documents(
    docs, out: Path, stem: str, source: str, tokenizer, block_size: int, seed: int, progress: bool, name: str
) -> Path:
    """Documents that were already cleaned, deduplicated and decontaminated, written to ``<out>/<stem>.jsonl.gz``
    and only tokenized and packed again (all into train) under ``<out>/corpus``."""
    from dapt.recipe import CorpusConfig, CorpusSource, DecontaminationConfig, DedupConfig

    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{stem}.jsonl.gz"
    write_documents(docs, path)
    repack = CorpusConfig(
        sources=[CorpusSource(name=source, path=path.name, format="jsonl", text_field="text", id_field="id")],
        min_chars=0,
        dedup=DedupConfig(exact=False, near=False),
        decontaminate=DecontaminationConfig(mode="off"),
    )
    res = run_ingest(repack, out, out / "corpus", tokenizer, block_size, 0.0, seed=seed, progress=progress, name=name)
    return res.dataset_dir
