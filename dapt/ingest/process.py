"""The ingest stage: read -> normalise -> quality filters -> exact dedup -> decontaminate -> near-dedup ->
tokenize -> pack -> sharded Arrow, with every record that does not make it counted by reason and written to
``rejects.jsonl``, a ``manifest.json`` (content hashes of inputs, config and outputs) and a data card."""

from __future__ import annotations

import gzip
import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path

from tqdm.auto import tqdm

from dapt.ingest.cleaning import Cleaner, Rejects, SourceCounts, clean_batches, prefetched, token_ids
from dapt.ingest.data_card import render_data_card
from dapt.ingest.decontaminate import task_texts
from dapt.ingest.diagnostics import TOP_K, stopwords
from dapt.ingest.manifest import build_manifest
from dapt.ingest.pack import BlockPacker, PackCounts, SpecialIds
from dapt.ingest.readers import Document, Rejected, check_source, read_source
from dapt.ingest.shards import ShardWriter
from dapt.recipe import CorpusConfig, TaskConfig

log = logging.getLogger(__name__)


@dataclass
class IngestResult:
    dataset_dir: Path
    stats: dict


_M64 = (1 << 64) - 1


def _heldout(index: int, fraction: float, seed: int) -> bool:
    """Streaming, deterministic split: kept document ``index`` is held out with probability ``fraction`` (SplitMix64 of
    the index and seed, in plain integers: one call per block)."""
    if fraction <= 0:
        return False
    z = (index ^ (seed << 40)) + 0x9E3779B97F4A7C15 & _M64
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 & _M64
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB & _M64
    return (z ^ (z >> 31)) / 2.0**64 < fraction


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
) -> IngestResult:
    """Ingest a corpus into ``out_dir``: ``dataset/{train,heldout}/shard-*.arrow``, ``stats.json``,
    ``manifest.json``, ``rejects.jsonl``, ``top_words.json`` and ``data_card.md``.

    Args:
        tasks: the recipe's tasks; the corpus is decontaminated against their ``cfg.decontaminate.splits``.
        tokenizer_name: how stats and the data card name the tokenizer (default: its ``name_or_path``).

    Raises:
        ReaderError: a source cannot be read at all (checked for every source before any work starts).
    """
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # long documents exceed the model's max length by design (they are packed)
    t0 = time.perf_counter()
    files = {src.name: check_source(src, data_root, tasks) for src in cfg.sources}
    out_dir.mkdir(parents=True, exist_ok=True)
    dataset_dir = out_dir / "dataset"
    if dataset_dir.exists():
        import shutil

        shutil.rmtree(dataset_dir)
    texts_by_task = {}
    if cfg.decontaminate.mode != "off":
        for t in tasks:
            texts_by_task[t.name] = [x for split in cfg.decontaminate.splits for x in task_texts(t, split, data_root)]
    per_source = {src.name: SourceCounts(files=len(files[src.name])) for src in cfg.sources}
    rejects = Rejects(out_dir)
    cleaner = Cleaner(cfg, texts_by_task, rejects, per_source)
    special = SpecialIds.from_tokenizer(tokenizer)
    pack_counts = PackCounts()
    writer = ShardWriter(dataset_dir, block_size, cfg.shard_blocks)
    max_bytes = 4 * cfg.filters.max_chars
    bytes_read = sum(p.stat().st_size for fs in files.values() for p in fs)

    def records() -> Iterator[Document | Rejected]:
        for src in cfg.sources:
            stream = read_source(src, data_root, files[src.name], max_bytes, tasks)
            if src.max_documents is not None:
                stream = islice(stream, src.max_documents)
            for rec in tqdm(stream, desc=f"ingest {src.name}", unit="doc", disable=not progress, mininterval=2):
                per_source[src.name].read += 1
                yield rec

    # The kept documents as text (for kNN selection, inspection): gzip level 1 costs ~0.3 s per 25 MB.
    docs_out = gzip.open(out_dir / "documents.jsonl.gz", "wt", encoding="utf-8", compresslevel=1)  # noqa: SIM115

    def tokenized() -> Iterator[tuple[str, list[int]]]:
        for batch in prefetched(clean_batches(records(), cleaner)):
            for d in batch:
                docs_out.write(json.dumps({"id": d.doc_id, "source": d.source, "text": d.text}, ensure_ascii=False))
                docs_out.write("\n")
            if batch:
                yield from zip((d.doc_id for d in batch), token_ids(tokenizer, [d.text for d in batch]), strict=True)

    # Held out by *document*, before packing: a held-out block never shares a document with a training block, and
    # the held-out ids are persisted so that later steps (re-packing, kNN, vocabulary counts) can leave them out.
    packers = {s: BlockPacker(block_size, special, pack_counts) for s in ("train", "heldout")}
    heldout_ids: list[str] = []

    def place(split: str, doc_id: str, ids: list[int]) -> None:
        if split == "heldout":
            heldout_ids.append(doc_id)
        for block, real in packers[split].add(ids):
            writer.add(split, block, real)

    try:
        pending = None  # the last document is held back: it becomes the held-out one if none was drawn
        n_train = 0
        for i, (doc_id, ids) in enumerate(tokenized()):
            if pending is not None:
                place(*pending)
                n_train += pending[0] == "train"
            pending = ("heldout" if _heldout(i, heldout_fraction, seed) else "train", doc_id, ids)
        if pending is not None:
            if heldout_fraction > 0 and not heldout_ids and n_train >= 1:
                pending = ("heldout", *pending[1:])
            place(*pending)
        for split, packer in packers.items():
            for block, real in packer.finish():
                writer.add(split, block, real)
        shards = writer.close()
        (out_dir / "heldout_ids.json").write_text(json.dumps(heldout_ids))
    finally:
        rejects.close()
        docs_out.close()
    if not shards:
        raise ValueError(f"ingest: no documents kept from {[s.name for s in cfg.sources]}: {_summary(per_source)}")

    seconds = time.perf_counter() - t0
    top = cleaner.vocab.most_common(TOP_K, exclude=stopwords())
    (out_dir / "top_words.json").write_text(json.dumps(top))
    d = cfg.decontaminate
    stats = {
        "name": name,
        "sources": {n: asdict(c) for n, c in per_source.items()},
        "documents": {
            "read": sum(c.read for c in per_source.values()),
            "kept": sum(c.kept for c in per_source.values()),
            "dropped": _sum_dropped(per_source),
        },
        "dedup_index_bytes": cleaner.exact.nbytes + (cleaner.near.index.nbytes if cleaner.near else 0),
        "near_dedup": (
            {
                "ngram_words": cfg.dedup.ngram_words,
                "threshold": cfg.dedup.threshold,
                "bands": cleaner.near.bands,
                "rows": cleaner.near.rows,
                "index_bytes": cleaner.near.index.nbytes,
            }
            if cleaner.near
            else None
        ),
        "decontamination": {
            "mode": d.mode,
            "ngram_words": d.ngram_words,
            "splits": list(d.splits),
            "task_ngrams": cleaner.tasks.per_task,
            "task_short_texts": cleaner.tasks.short_per_task,
            "documents_per_task": cleaner.contaminated,
            "flagged": cleaner.flagged,
        },
        "tokenizer": tokenizer_name or getattr(tokenizer, "name_or_path", type(tokenizer).__name__),
        "block_size": block_size,
        "words": cleaner.words_kept,
        "content_tokens": pack_counts.content_tokens,
        "fertility": round(pack_counts.content_tokens / max(1, cleaner.words_kept), 4),
        "separator_tokens": pack_counts.documents,
        "blocks": {
            "total": pack_counts.blocks,
            "train": writer.rows.get("train", 0),
            "heldout": writer.rows.get("heldout", 0),
        },
        "padding_tokens": pack_counts.padding_tokens,
        "padding_fraction": pack_counts.padding_fraction,
        "input_bytes": bytes_read,
        "seconds": round(seconds, 2),
        "mb_per_s": round(bytes_read / 1e6 / max(seconds, 1e-9), 2),
    }
    manifest = build_manifest(
        cfg, data_root, files, tasks, tokenizer, block_size, heldout_fraction, seed, stats, shards
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
