"""The ingest stage: read -> normalise -> quality filters -> exact dedup -> decontaminate -> near-dedup ->
tokenize -> pack -> sharded Arrow, with every record that does not make it counted by reason and written to
``rejects.jsonl``, a ``manifest.json`` (content hashes of inputs, config and outputs) and a data card.

It runs as map and reduce phases over input shards (:mod:`dapt.ingest.input_shards`), on one worker in this
process or on several (a process pool, or any engine's ``submit``: Prefect's task runners on Dask or Ray). The
output does not depend on the number of workers: documents keep their global reading order through every phase,
dedup keeps first occurrences by it, and packing, the one sequential step, reads the shards in order."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm.auto import tqdm

from dapt.ingest.assemble import concat_parts, pack_kept
from dapt.ingest.cleaning import SourceCounts
from dapt.ingest.data_card import render_data_card
from dapt.ingest.decontaminate import task_texts
from dapt.ingest.dedup_reduce import bucket_sizes, reduce_exact, reduce_near, resolve_near
from dapt.ingest.diagnostics import TOP_K, stopwords
from dapt.ingest.input_shards import bucket_count, plan_input_shards
from dapt.ingest.manifest import build_manifest
from dapt.ingest.minhash import lsh_params
from dapt.ingest.pack import PackCounts
from dapt.ingest.readers import check_source
from dapt.ingest.shard_map import MapJob, map_dir, map_shard, write_near_keys
from dapt.ingest.shard_tokenize import tokenize_shard
from dapt.ingest.word_ids import most_common
from dapt.recipe import CorpusConfig, TaskConfig

log = logging.getLogger(__name__)

Submit = Callable[..., Future]
"""``submit(fn, *args)`` -> a future with ``.result()``: ``concurrent.futures`` executors, Dask clients and
Prefect tasks' ``.submit`` all fit."""


@dataclass
class IngestResult:
    dataset_dir: Path
    stats: dict


def _inline(fn, *args) -> Future:
    f: Future = Future()
    f.set_result(fn(*args))
    return f


def _gather(futures: list, desc: str, progress: bool) -> list:
    """Wait for a phase's calls, in order."""
    return [
        f.result() for f in tqdm(futures, desc=f"ingest {desc}", unit="shard", disable=not progress or len(futures) < 2)
    ]


class _Laps:
    """Wall seconds per phase: each ``lap(name)`` is the time since the previous one."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self._t, 2)
        self._t = now


def run_ingest(
    cfg: CorpusConfig,
    data_root: Path,
    out_dir: Path,
    tokenizer,
    block_size: int,
    heldout_fraction: float,
    seed: int = 0,
    progress: bool = True,
    name: str = "corpus",
    tasks: Sequence[TaskConfig] = (),
    tokenizer_name: str | None = None,
    workers: int = 1,
    submit: Submit | None = None,
) -> IngestResult:
    """Ingest a corpus into ``out_dir``: ``dataset/{train,heldout}/shard-*.arrow``, ``stats.json``,
    ``manifest.json``, ``rejects.jsonl``, ``top_words.json`` and ``data_card.md``.

    Args:
        tasks: the recipe's tasks; the corpus is decontaminated against their ``cfg.decontaminate.splits``.
        tokenizer_name: how stats and the data card name the tokenizer (default: its ``name_or_path``).
        workers: parallel workers for the map and reduce phases (a local process pool unless ``submit`` is given);
            1: everything in this process.
        submit: run phases on an existing engine instead (``submit(fn, *args)`` -> future).

    Raises:
        ReaderError: a source cannot be read at all (checked for every source before any work starts).
    """
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # long documents exceed the model's max length by design (they are packed)
    t0 = time.perf_counter()
    files = {src.name: check_source(src, data_root, tasks) for src in cfg.sources}
    out_dir.mkdir(parents=True, exist_ok=True)
    dataset_dir = out_dir / "dataset"
    work = out_dir / "work"
    for d in (dataset_dir, work):
        if d.exists():
            shutil.rmtree(d)
    work.mkdir()
    texts_by_task = {}
    if cfg.decontaminate.mode != "off":
        for t in tasks:
            texts_by_task[t.name] = [x for split in cfg.decontaminate.splits for x in task_texts(t, split, data_root)]
    bytes_read = sum(p.stat().st_size for fs in files.values() for p in fs)
    shards = plan_input_shards(cfg, files, workers)
    buckets = bucket_count(bytes_read, workers)
    job = MapJob(cfg, data_root, work, tuple(tasks), texts_by_task, buckets, 4 * cfg.filters.max_chars)
    pool = None
    if submit is None and workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn: a forked copy of a process that already ran the Rust tokenizer's thread pool can deadlock.
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        submit = pool.submit
    submit = submit or _inline
    laps = _Laps()
    try:
        maps = _gather([submit(map_shard, sh, job) for sh in shards], "read+filter", progress)
        laps.lap("read+filter")
        dirs = [map_dir(work, sh.index) for sh in shards]
        exact_files = [work / f"exact-dup-{k:05d}.npy" for k in range(buckets)] if cfg.dedup.exact else []
        _gather([submit(reduce_exact, dirs, k, f) for k, f in enumerate(exact_files)], "exact dedup", progress)
        laps.lap("exact dedup")
        near_files, near_pairs = [], 0
        if cfg.dedup.near:
            _gather([submit(write_near_keys, sh.index, job, exact_files) for sh in shards], "lsh keys", progress)
            laps.lap("lsh keys")
            shared = [work / f"near-shared-{k:05d}.npy" for k in range(buckets)]
            near_pairs = sum(
                _gather([submit(reduce_near, dirs, k, f) for k, f in enumerate(shared)], "near dedup", progress)
            )
            laps.lap("near dedup")
            near_files = [work / "near-dup.npy"]
            resolve_near(shared, near_files[0])
            laps.lap("near resolve")
        finals = _gather(
            [submit(tokenize_shard, sh.index, job, tokenizer, exact_files, near_files) for sh in shards],
            "tokenize",
            progress,
        )
        laps.lap("tokenize")
    finally:
        if pool is not None:
            pool.shutdown()
    per_source = {src.name: SourceCounts(files=len(files[src.name])) for src in cfg.sources}
    for sh, m, f in zip(shards, maps, finals, strict=True):
        c = per_source[sh.source]
        c.read += m["counts"]["read"]
        c.kept += f["kept"]
        for k, v in [*m["counts"]["dropped"].items(), *f["dropped"].items()]:
            c.dropped[k] = c.dropped.get(k, 0) + v
    contaminated = {n: sum(f["contaminated"].get(n, 0) for f in finals) for n in texts_by_task}
    # The largest reduce's working set: 16 bytes a (key, order) pair, exact and near buckets alike.
    kinds = ["exact"] * cfg.dedup.exact + ["near"] * cfg.dedup.near
    bucket_bytes = int(16 * sum(bucket_sizes(dirs, p, buckets) for p in kinds).max()) if kinds else 0

    pack_counts = PackCounts()
    laps.lap("merge counts")
    shard_rows = pack_kept(dirs, out_dir, dataset_dir, tokenizer, block_size, heldout_fraction, seed, cfg, pack_counts)
    concat_parts(dirs, ["rejects.jsonl", "rejects-dedup.jsonl"], out_dir / "rejects.jsonl")
    concat_parts(dirs, ["contaminated.jsonl"], out_dir / "contaminated.jsonl")
    concat_parts(dirs, ["kept.jsonl.gz"], out_dir / "documents.jsonl.gz")  # gzip members concatenate to one stream
    words: dict[str, int] = {}
    for d in dirs:
        for w, n in json.loads((d / "words.json").read_text()).items():
            words[w] = words.get(w, 0) + n
    (out_dir / "top_words.json").write_text(json.dumps(most_common(words, TOP_K, exclude=stopwords())))
    del words
    laps.lap("pack+write")
    shutil.rmtree(work)
    shards_out, rows = shard_rows
    if not shards_out:
        raise ValueError(f"ingest: no documents kept from {[s.name for s in cfg.sources]}: {_summary(per_source)}")

    seconds = time.perf_counter() - t0
    d = cfg.decontaminate
    bands, lsh_rows = lsh_params(cfg.dedup.threshold, cfg.dedup.num_perm)
    words_kept = sum(f["words"] for f in finals)
    stats = {
        "name": name,
        "sources": {n: asdict(c) for n, c in per_source.items()},
        "documents": {
            "read": sum(c.read for c in per_source.values()),
            "kept": sum(c.kept for c in per_source.values()),
            "dropped": _sum_dropped(per_source),
        },
        "workers": workers if submit is not _inline else 1,
        "input_shards": len(shards),
        "dedup_buckets": buckets,
        "phase_seconds": laps.seconds,
        "dedup_bucket_bytes": bucket_bytes,
        # What the one sequential dedup step (near resolve) holds: band keys two or more live documents share.
        "near_shared_pairs": near_pairs,
        "near_dedup": (
            {"ngram_words": cfg.dedup.ngram_words, "threshold": cfg.dedup.threshold, "bands": bands, "rows": lsh_rows}
            if cfg.dedup.near
            else None
        ),
        "decontamination": {
            "mode": d.mode,
            "ngram_words": d.ngram_words,
            "splits": list(d.splits),
            "task_ngrams": maps[0]["task_ngrams"],
            "task_short_texts": maps[0]["task_short_texts"],
            "documents_per_task": contaminated,
            "flagged": sum(f["flagged"] for f in finals),
        },
        "tokenizer": tokenizer_name or getattr(tokenizer, "name_or_path", type(tokenizer).__name__),
        "block_size": block_size,
        "words": words_kept,
        "content_tokens": pack_counts.content_tokens,
        "fertility": round(pack_counts.content_tokens / max(1, words_kept), 4),
        "separator_tokens": pack_counts.documents,
        "blocks": {"total": pack_counts.blocks, "train": rows.get("train", 0), "heldout": rows.get("heldout", 0)},
        "padding_tokens": pack_counts.padding_tokens,
        "padding_fraction": pack_counts.padding_fraction,
        "input_bytes": bytes_read,
        "seconds": round(seconds, 2),
        "mb_per_s": round(bytes_read / 1e6 / max(seconds, 1e-9), 2),
    }
    manifest = build_manifest(
        cfg, data_root, files, tasks, tokenizer, block_size, heldout_fraction, seed, stats, shards_out
    )
    stats["manifest_hash"] = manifest["manifest_hash"]
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    (out_dir / "stats.json").write_text(json.dumps(stats, indent=2))
    (out_dir / "data_card.md").write_text(render_data_card(name, cfg, stats))
    log.info("ingest %s: %s; %.1f MB/s", name, _summary(per_source), stats["mb_per_s"])
    return IngestResult(dataset_dir=dataset_dir, stats=stats)


def _sum_dropped(per_source: dict[str, SourceCounts]) -> dict[str, int]:
    total: dict[str, int] = {}
    for c in per_source.values():
        for k, v in c.dropped.items():
            total[k] = total.get(k, 0) + v
    return dict(sorted(total.items()))


def _summary(per_source: dict[str, SourceCounts]) -> str:
    return "; ".join(f"{n}: read {c.read}, kept {c.kept}, dropped {c.dropped}" for n, c in per_source.items())
