"""The pretraining stage of a run: each continued-pretraining job the recipe's variants imply (see
:func:`dapt.run.plan.pretrain_jobs`), its inputs, the corpus and start it trains from, and its settings."""

from __future__ import annotations

import json
import logging

from dapt.device import pick_device
from dapt.ingest import corpus_inputs, ingest_task_corpus, task_corpus_inputs
from dapt.precision import resolve_precision
from dapt.recipe import PretrainConfig
from dapt.run.context import RunContext
from dapt.run.plan import PretrainJob, pretrain_jobs
from dapt.run.provenance import source_hash

log = logging.getLogger("dapt")


def job_inputs(ctx: RunContext, job: PretrainJob) -> dict:
    r = ctx.recipe
    init = job_inputs(ctx, PretrainJob("dapt")) if job.variant == "dapt+tapt" else {"base": r.base_model}
    if job.variant == "scratch":  # the base's shape only: fresh weights, a domain vocabulary
        init = {"fresh": r.base_model, "scratch": r.scratch.hash_dump()}
    corpus = corpus_inputs(ctx) if job.task is None else task_corpus_inputs(ctx, job.corpus_kind, job.task)
    pretrain = r.pretrain.hash_dump()
    if job.variant != "dapt-replay":
        pretrain.pop("replay_ratio", None)  # only that variant mixes: others keep their hash
    else:
        pretrain["replay_ratio"] = r.pretrain.replay_ratio
        pretrain["replay_corpus"] = r.general_corpus.hash_dump()
    return {
        "corpus": corpus,
        "pretrain": pretrain,
        "tapt": r.tapt.hash_dump() if job.task else None,
        "init": init,
        "variant": job.variant,
        "code": source_hash("pretrain"),
        # What ``auto`` resolves to on this machine: a resume on a machine without bf16 trains anew.
        "precision": resolve_precision(r.pretrain.mixed_precision, pick_device()).dtype,
    }


def job_config(ctx: RunContext, job: PretrainJob) -> PretrainConfig:
    """DAPT and the general control share ``pretrain``; the TAPT jobs run ``tapt.epochs`` passes over their
    task corpus, with ``tapt``'s learning rate and batch size where set."""
    p = ctx.recipe.pretrain
    if job.variant == "scratch":
        sc = ctx.recipe.scratch
        return p.model_copy(
            update={
                "max_tokens": max(1, round(sc.budget_multiple * p.max_tokens)),
                "learning_rate": sc.learning_rate or p.learning_rate,
                "extend_vocab_words": 0,  # the whole vocabulary is the domain's already
            }
        )
    if job.task is None:
        return p
    t = ctx.recipe.tapt
    stats = json.loads((ctx.layout.job_corpus_dir(job) / "stats.json").read_text())
    blocks = stats["blocks"]["train"]
    return p.model_copy(
        update={
            "max_tokens": max(1, t.epochs * blocks * p.block_size),
            "learning_rate": t.learning_rate or p.learning_rate,
            "batch_size": min(t.batch_size or p.batch_size, blocks),
        }
    )


def pretrain_all(ctx: RunContext, progress: bool = True) -> dict | None:
    """Every pretraining job, in dependency order; returns the DAPT summary (or None without DAPT)."""
    out = None
    jobs = pretrain_jobs(ctx.recipe)
    for job in jobs:
        summary = pretrain_job(ctx, job, progress=progress)
        if job.variant == "dapt":
            out = summary
    if not jobs:
        log.info("pretrain: no variant needs it, skipped")
    return out


def pretrain_job(ctx: RunContext, job: PretrainJob, progress: bool = True) -> dict:
    lay, r = ctx.layout, ctx.recipe
    out_dir = lay.job_dir(job)
    outputs = (out_dir / "summary.json", out_dir / "model" / "config.json")
    with ctx.stage(job.key, job_inputs(ctx, job), outputs) as st:
        if st.done:
            log.info("%s: complete for this recipe hash, skipped", job.key)
            return json.loads((out_dir / "summary.json").read_text())
        if not (lay.corpus_dir / "dataset" / "train").is_dir():
            raise FileNotFoundError(f"pretrain needs the ingested corpus: run `dapt ingest` first ({lay.corpus_dir})")
        from dapt.models import resolve_model
        from dapt.pretrain.train import run_pretrain
        from dapt.pretrain.vocab_extension import extend_for_job, retokenize_task_corpus

        if job.task is not None:
            ingest_task_corpus(ctx, job.corpus_kind, job.task, progress=progress)
        cfg = job_config(ctx, job)
        init = lay.job_dir(PretrainJob("dapt")) / "model" if job.variant == "dapt+tapt" else resolve_model(r.base_model)
        if not (init / "config.json").is_file():
            raise FileNotFoundError(f"{job.key} starts from {init}: run the dapt pretraining first")
        train_data = lay.job_corpus_dir(job) / "dataset"
        heldout_dir = lay.corpus_dir / "dataset"
        if job.variant == "scratch":
            from dapt.pretrain.scratch import prepare_scratch

            # Its perplexity is over its own vocabulary, on the same held-out documents: not comparable to the
            # others' numbers, and no general-text perplexity (a model that never saw general text forgets nothing).
            init, train_data = prepare_scratch(ctx, job, cfg, progress)
            heldout_dir = train_data
        elif cfg.extend_vocab_words and job.variant in ("dapt", "dapt-replay"):
            init, train_data = extend_for_job(ctx, job, init, cfg, progress)
        elif cfg.extend_vocab_words and job.variant == "dapt+tapt":
            train_data = retokenize_task_corpus(ctx, job, init, progress)
        log.info("%s: %d tokens from %s on %s", job.key, cfg.max_tokens, init, train_data)
        res = run_pretrain(
            cfg,
            init,
            train_data,
            out_dir,
            trust_remote_code=r.trust_remote_code,
            progress=progress,
            general_dir=lay.general_dir / "dataset" if r.general_corpus and job.variant != "scratch" else None,
            heldout_dir=heldout_dir,
            description=job.describe(r.base_model),
            replay_dir=lay.general_dir / "dataset" if job.variant == "dapt-replay" else None,
        )
        return res.summary
