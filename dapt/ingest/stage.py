"""The ingest stage of a run: the domain corpus (decontaminated against the tasks), the general corpus, the domain
diagnostics, and the per-task corpora of the TAPT variants. Each function's inputs sit next to it: a change to
anything else in the recipe does not redo them."""

from __future__ import annotations

import json
import logging

from dapt.run.context import RunContext
from dapt.run.provenance import source_hash

log = logging.getLogger("dapt")


def corpus_inputs(ctx: RunContext) -> dict:
    r = ctx.recipe
    return {
        "base_model": r.base_model,
        "trust_remote_code": r.trust_remote_code,
        "corpus": r.corpus.hash_dump(),
        "general_corpus": r.general_corpus.hash_dump() if r.general_corpus else None,
        # Decontamination reads the tasks' dev/test text; diagnostics their train text.
        "tasks": [
            t.hash_dump(include={"name", "format", "train", "dev", "test", "text_field", "token_column"})
            for t in r.tasks
        ],
        "block_size": r.pretrain.block_size,
        "heldout_fraction": r.pretrain.heldout_fraction,
        "seed": r.pretrain.seed,
        # Decontamination reads tasks through dapt.tasks: its code shapes the corpus too.
        "code": source_hash("ingest", "tasks"),
    }


def task_corpus_inputs(ctx: RunContext, kind: str, task_name: str) -> dict:
    out = {**corpus_inputs(ctx), "task_corpus": kind, "task": ctx.task(task_name).hash_dump()}
    if kind == "knn-tapt":
        out["knn"] = ctx.recipe.tapt.hash_dump(include={"knn_per_example", "knn_embedding_model"})
    return out


def _base_tokenizer(ctx: RunContext):
    from transformers import AutoTokenizer

    from dapt.models import resolve_model

    r = ctx.recipe
    return AutoTokenizer.from_pretrained(resolve_model(r.base_model), trust_remote_code=r.trust_remote_code)


def ingest_corpora(ctx: RunContext, progress: bool = True, submit=None) -> dict:
    """Ingest the domain corpus and the general corpus if any, then the domain diagnostics (fertility, vocabulary
    overlap) across corpora and tasks. Returns the domain corpus's stats.

    ``recipe.engine.ingest_workers`` map/reduce workers (a local process pool), or ``submit`` (an engine's
    ``submit(fn, *args)``, e.g. Prefect tasks on Dask); the output is the same either way."""
    lay = ctx.layout
    outputs = (lay.corpus_dir / "stats.json", lay.corpus_dir / "dataset" / "train")
    if ctx.recipe.general_corpus is not None:
        outputs += (lay.general_dir / "stats.json",)
    with ctx.stage("ingest", corpus_inputs(ctx), outputs) as st:
        if st.done:
            log.info("ingest: complete for this recipe hash, skipped")
            return json.loads((lay.corpus_dir / "stats.json").read_text())
        from dapt.ingest.data_card import render_data_card
        from dapt.ingest.diagnostics import domain_diagnostics
        from dapt.ingest.process import run_ingest

        r = ctx.recipe
        tok = _base_tokenizer(ctx)
        common = dict(
            tokenizer=tok,
            block_size=r.pretrain.block_size,
            heldout_fraction=r.pretrain.heldout_fraction,
            seed=r.pretrain.seed,
            progress=progress,
            tasks=r.tasks,
            tokenizer_name=r.base_model,
            workers=r.engine.ingest_workers,
            submit=submit,
        )
        res = run_ingest(r.corpus, ctx.data_root, lay.corpus_dir, name=f"{r.name} domain corpus", **common)
        corpora = {"domain": lay.corpus_dir}
        if r.general_corpus is not None:
            run_ingest(r.general_corpus, ctx.data_root, lay.general_dir, name=f"{r.name} general corpus", **common)
            corpora["general"] = lay.general_dir
        diag = domain_diagnostics(corpora, r.tasks, ctx.data_root, tok, tokenizer_name=r.base_model)
        (lay.corpus_dir / "diagnostics.json").write_text(json.dumps(diag, indent=2))
        (lay.corpus_dir / "data_card.md").write_text(
            render_data_card(res.stats["name"], r.corpus, res.stats, diagnostics=diag)
        )
        return res.stats


def ingest_task_corpus(ctx: RunContext, kind: str, task_name: str, progress: bool = True) -> dict:
    """The corpus of a per-task variant: the task's train text (``tapt``), plus its nearest domain documents
    (``knn-tapt``). Decontaminated against every task's dev/test text like the domain corpus."""
    out = ctx.layout.task_corpus_dir(kind, task_name)
    with ctx.stage(f"ingest/{kind}/{task_name}", task_corpus_inputs(ctx, kind, task_name), (out / "stats.json",)) as st:
        if st.done:
            return json.loads((out / "stats.json").read_text())
        from dapt.ingest.process import run_ingest
        from dapt.models import resolve_model
        from dapt.recipe import CorpusConfig, CorpusSource

        r = ctx.recipe
        sources = [CorpusSource(name=f"{task_name}-train", path=task_name, format="task")]
        if kind == "knn-tapt":
            from dapt.ingest.knn import select_neighbours

            selected = select_neighbours(
                ctx.layout.corpus_dir,
                ctx.task(task_name),
                ctx.data_root,
                resolve_model(r.tapt.knn_embedding_model),
                r.tapt.knn_per_example,
                out,
            )
            sources.append(CorpusSource(name="knn-domain", path=str(selected), format="jsonl", id_field="id"))
        cfg = CorpusConfig(
            sources=sources,
            quality=r.corpus.filters,
            detokenize=r.corpus.detokenize,
            dedup=r.corpus.dedup,
            decontaminate=r.corpus.decontaminate,
        )
        res = run_ingest(
            cfg,
            ctx.data_root,
            out,
            _base_tokenizer(ctx),
            r.pretrain.block_size,
            0.0,  # perplexity is measured on the domain corpus's held-out split, the same for every variant
            seed=r.pretrain.seed,
            progress=progress,
            name=f"{r.name} {kind} corpus for {task_name}",
            tasks=r.tasks,
            tokenizer_name=r.base_model,
        )
        return res.stats
