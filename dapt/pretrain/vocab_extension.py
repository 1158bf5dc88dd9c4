"""Vocabulary extension inside a run: the extended tokenizer and model a DAPT job starts from, and the domain corpus
re-packed with that tokenizer."""

from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path

from dapt.ingest import run_ingest
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
    from dapt.recipe import CorpusConfig, CorpusSource, DecontaminationConfig, DedupConfig

    r = ctx.recipe
    corpus_dir = ctx.layout.corpus_dir
    out = ctx.layout.job_dir(job) / "extended"
    docs = corpus_dir / "documents.jsonl.gz"
    tokenizer = AutoTokenizer.from_pretrained(init, trust_remote_code=r.trust_remote_code)
    with gzip.open(docs, "rt", encoding="utf-8") as f:
        words = find_domain_words(
            (json.loads(line)["text"] for line in f), tokenizer, cfg.extend_vocab_words, cfg.extend_vocab_min_count
        )
    model = load_lm(init, cfg.objective, r.trust_remote_code)
    extend_vocabulary(model, tokenizer, [w.word for w in words])
    model.save_pretrained(out / "init", safe_serialization=True)
    tokenizer.save_pretrained(out / "init")
    (out / "words.json").write_text(
        json.dumps([{"word": w.word, "count": w.count, "pieces": w.pieces} for w in words], indent=1)
    )
    log.info("%s: vocabulary +%d domain words (e.g. %s)", job.key, len(words), ", ".join(w.word for w in words[:8]))
    # Already cleaned, deduplicated and decontaminated: only tokenize and pack again.
    repack = CorpusConfig(
        sources=[CorpusSource(name="domain", path=docs.name, format="jsonl", text_field="text", id_field="id")],
        min_chars=0,
        dedup=DedupConfig(exact=False, near=False),
        decontaminate=DecontaminationConfig(mode="off"),
    )
    res = run_ingest(
        repack,
        corpus_dir,
        out / "corpus",
        tokenizer,
        cfg.block_size,
        r.pretrain.heldout_fraction,
        seed=r.pretrain.seed,
        progress=progress,
        name="domain corpus, extended vocabulary",
    )
    return out / "init", res.dataset_dir
