"""Map phase of a sharded ingest, one call per input shard, in any worker: read -> normalise -> quality filters,
then per document the keys the dedup reduces need (an exact-text digest, MinHash LSH band keys) and its
decontamination mask. Everything is streamed to the shard's work folder; nothing is held across batches, so a
worker's memory does not grow with its shard.

Work folder of shard ``i`` (``map-0000i/``): ``docs.jsonl`` (the documents that passed the quality filters, in
reading order), ``keys.npz`` (per document: ``contaminated`` task bitmask, ``has_sig``; the band keys ``bands``),
``exact.npy`` (``[2, n]`` uint64: key and global order, grouped by reduce bucket; ``exact-offsets.npy``: where
each bucket starts), ``rejects.jsonl`` and
``counts.json`` (per source: records read, dropped by reason)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path

import numpy as np

from dapt.ingest.cleaning import Rejects, SourceCounts, filter_record
from dapt.ingest.decontaminate import TaskNgrams
from dapt.ingest.dedup_reduce import shard_slice, write_buckets
from dapt.ingest.input_shards import InputShard, order_of
from dapt.ingest.minhash import band_keys, lsh_params, permutations, signatures
from dapt.ingest.normalize import dedup_key
from dapt.ingest.readers import read_file, read_source
from dapt.ingest.word_ids import Vocabulary, ngram_hashes, words
from dapt.recipe import CorpusConfig, TaskConfig

BATCH_DOCS = 2048
"""Documents per vectorised batch (word hashing, n-grams, MinHash)."""


@dataclass(frozen=True)
class MapJob:
    """What every map call needs besides its shard (picklable: it travels to the workers)."""

    cfg: CorpusConfig
    data_root: Path
    work_dir: Path
    tasks: tuple[TaskConfig, ...]
    texts_by_task: dict[str, list[str]]
    buckets: int
    max_bytes: int


def map_dir(work_dir: Path, shard: int) -> Path:
    return work_dir / f"map-{shard:05d}"


def _records(shard: InputShard, job: MapJob, counts: SourceCounts):
    src = next(s for s in job.cfg.sources if s.name == shard.source)
    if shard.files is None:
        from dapt.recipe import source_files

        files = [] if src.format in ("hf", "task") else source_files(src, job.data_root)
        stream = read_source(src, job.data_root, files, job.max_bytes, job.tasks)
        if src.max_documents is not None:
            stream = islice(stream, src.max_documents)
    else:
        root = job.data_root

        def stream_files():
            for f in shard.files:
                p = Path(f)
                yield from read_file(src, p, str(p.relative_to(root)) if p.is_relative_to(root) else f, job.max_bytes)

        stream = stream_files()
    for rec in stream:
        counts.read += 1
        yield rec


def map_shard(shard: InputShard, job: MapJob) -> dict:
    """Filter one shard and write its documents and dedup keys. Returns ``{"documents", "counts"}``."""
    out = map_dir(job.work_dir, shard.index)
    out.mkdir(parents=True, exist_ok=True)
    cfg = job.cfg
    counts = SourceCounts()
    vocab = Vocabulary()
    d = cfg.decontaminate
    tasks = TaskNgrams.build(job.texts_by_task if d.mode != "off" else {}, vocab, d.ngram_words, d.min_words)
    bands, rows = lsh_params(cfg.dedup.threshold, cfg.dedup.num_perm)
    a, b = permutations(bands * rows, cfg.dedup.seed)
    exact, contaminated, has_sig, band_rows = [], [], [], []
    rejects = Rejects(out)
    n = 0
    try:
        with open(out / "docs.jsonl", "w", encoding="utf-8") as docs_f:
            batch = []
            for rec in _records(shard, job, counts):
                doc = filter_record(rec, cfg, counts, rejects)
                if doc is None:
                    continue
                docs_f.write(json.dumps({"s": doc.source, "id": doc.doc_id, "t": doc.text}, ensure_ascii=False))
                docs_f.write("\n")
                batch.append(doc.text)
                if len(batch) == BATCH_DOCS:
                    _keys(batch, vocab, tasks, cfg, a, b, bands, rows, exact, contaminated, has_sig, band_rows)
                    n += len(batch)
                    batch = []
            _keys(batch, vocab, tasks, cfg, a, b, bands, rows, exact, contaminated, has_sig, band_rows)
            n += len(batch)
    finally:
        rejects.close()
    orders = np.uint64(order_of(shard.index, 0)) | np.arange(n, dtype=np.uint64)
    write_buckets(out, "exact", np.concatenate(exact) if exact else np.empty(0, np.uint64), orders, job.buckets)
    np.savez(
        out / "keys.npz",
        contaminated=np.concatenate(contaminated) if contaminated else np.empty(0, np.int64),
        has_sig=np.concatenate(has_sig) if has_sig else np.empty(0, bool),
        bands=np.concatenate(band_rows) if band_rows else np.empty((0, bands), np.uint64),
    )
    # The task n-gram table is the same in every shard: its sizes go to the stats from any one.
    summary = {"documents": n, "counts": asdict(counts), "task_ngrams": tasks.per_task,
               "task_short_texts": tasks.short_per_task}  # fmt: skip
    (out / "counts.json").write_text(json.dumps(summary))
    return summary


def _keys(texts, vocab, tasks, cfg, a, b, bands, rows, exact, contaminated, has_sig, band_rows) -> None:
    """Append one batch's exact keys, contamination masks and LSH band keys (vectorised over the batch)."""
    if not texts:
        return
    # 64-bit digests: collisions at 2^-64 per pair.
    exact.append(
        np.fromiter(
            (int.from_bytes(hashlib.blake2b(dedup_key(t).encode(), digest_size=8).digest(), "little") for t in texts),
            dtype=np.uint64,
            count=len(texts),
        )
    )
    ids = [vocab.encode(words(t)) for t in texts]
    lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
    flat = np.fromiter((w for x in ids for w in x), dtype=np.int64, count=int(lengths.sum()))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    mixed = vocab.hashes(flat)
    mask = np.zeros(len(texts), dtype=np.int64)
    if tasks.names:
        h, d = ngram_hashes(mixed, starts, cfg.decontaminate.ngram_words)
        mask = tasks.match(h, d, len(texts)) | tasks.match_short(mixed, starts, len(texts))
    contaminated.append(mask)
    if cfg.dedup.near:
        h, d = ngram_hashes(mixed, starts, cfg.dedup.ngram_words)
        sig, has = signatures(h, d, len(texts), a, b)
        band_rows.append(band_keys(sig, bands, rows))
        has_sig.append(has)
    else:
        band_rows.append(np.empty((len(texts), bands), np.uint64))
        has_sig.append(np.zeros(len(texts), bool))
    # Ids are local and the task n-grams are stored as hashes: the vocabulary is only a cache of word hashes here,
    # dropped before it grows with the shard.
    if len(vocab.ids) > 2_000_000:
        vocab.clear()


def write_near_keys(shard: int, job: MapJob, exact_dups: list[Path]) -> int:
    """Second map over a shard, after the exact reduce: the band keys of the documents still in (not exact
    duplicates, not dropped as contaminated, with a signature) into the near-dedup buckets. Returns how many
    documents."""
    out = map_dir(job.work_dir, shard)
    keys = np.load(out / "keys.npz")
    live = keys["has_sig"].copy()
    live[shard_slice(exact_dups, shard)] = False
    if job.cfg.decontaminate.mode == "drop":
        live &= keys["contaminated"] == 0
    pos = np.flatnonzero(live).astype(np.uint64)
    bands = keys["bands"][live]
    orders = np.repeat(np.uint64(order_of(shard, 0)) | pos, bands.shape[1])
    write_buckets(out, "near", bands.ravel(), orders, job.buckets)
    return len(pos)
