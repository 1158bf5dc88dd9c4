"""The ingest stage: from the recipe's corpus sources to a packed, held-out-split Arrow dataset plus stats.json."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from dapt.ingest.data_card import render_data_card
from dapt.ingest.normalize import dedup_key, detokenize_ptb, normalize_text
from dapt.ingest.pack import PackCounts, SpecialIds, pack_blocks
from dapt.ingest.readers import Document, MalformedRecord, read_jsonl, read_text_lines
from dapt.recipe import CorpusConfig, CorpusSource, source_files

log = logging.getLogger(__name__)

TOKENIZE_BATCH = 2048


@dataclass
class SourceCounts:
    files: int = 0
    read: int = 0
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1


@dataclass
class IngestResult:
    dataset_dir: Path
    stats: dict


def _read_source(src: CorpusSource, data_root: Path, counts: SourceCounts) -> Iterator[Document | MalformedRecord]:
    files = source_files(src, data_root)
    counts.files = len(files)
    for path in files:
        rel = str(path.relative_to(data_root)) if path.is_relative_to(data_root) else str(path)
        if src.format == "jsonl":
            yield from read_jsonl(path, src.name, src.text_field, rel=rel)
        else:
            yield from read_text_lines(path, src.name, rel=rel)


def clean_documents(
    cfg: CorpusConfig, data_root: Path, per_source: dict[str, SourceCounts], progress: bool = True
) -> Iterator[str]:
    """Read every source, normalise, filter and exact-dedup; yield kept texts and count every drop by reason."""
    seen: set[bytes] = set()
    for src in cfg.sources:
        counts = per_source.setdefault(src.name, SourceCounts())
        records = _read_source(src, data_root, counts)
        if src.max_documents is not None:
            records = islice(records, src.max_documents)
        for rec in tqdm(records, desc=f"ingest {src.name}", unit="doc", disable=not progress, mininterval=2):
            counts.read += 1
            if isinstance(rec, MalformedRecord):
                counts.drop("malformed")
                continue
            text = normalize_text(rec.text)
            if cfg.detokenize:
                text = detokenize_ptb(text)
            if not text:
                counts.drop("empty")
                continue
            if len(text) < cfg.min_chars:
                counts.drop("too_short")
                continue
            # 16-byte digests: 155k documents cost ~5 MB of set instead of the texts themselves.
            key = hashlib.blake2b(dedup_key(text).encode(), digest_size=16).digest()
            if key in seen:
                counts.drop("duplicate")
                continue
            seen.add(key)
            counts.kept += 1
            yield text


def _tokenized(texts: Iterator[str], tokenizer) -> Iterator[list[int]]:
    while batch := list(islice(texts, TOKENIZE_BATCH)):
        # The fast tokenizer parallelises a batch across cores in Rust.
        yield from tokenizer(batch, add_special_tokens=False, truncation=False)["input_ids"]


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
) -> IngestResult:
    """Ingest the corpus into ``out_dir/dataset`` (a ``datasets.DatasetDict``: train, heldout when the fraction is
    above 0), ``stats.json`` and ``data_card.md``.

    Returns:
        The dataset folder and the stats dictionary written beside it.
    """
    import datasets
    from transformers.utils import logging as hf_logging

    # Long documents exceed the model's max length by design here (they are packed, not truncated).
    hf_logging.set_verbosity_error()
    t0 = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    per_source: dict[str, SourceCounts] = {}
    special = SpecialIds.from_tokenizer(tokenizer)
    pack_counts = PackCounts()
    blocks, n_real = [], []
    texts = clean_documents(cfg, data_root, per_source, progress=progress)
    for block, real in pack_blocks(_tokenized(texts, tokenizer), block_size, special, pack_counts):
        blocks.append(block)
        n_real.append(real)
    if not blocks:
        raise ValueError(f"ingest: no documents kept from {[s.name for s in cfg.sources]}: {_summary(per_source)}")
    ids = np.stack(blocks)
    real = np.asarray(n_real, dtype=np.int32)

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(ids))
    n_heldout = round(heldout_fraction * len(ids))
    if heldout_fraction > 0:
        n_heldout = min(max(n_heldout, 1), len(ids) - 1)
    heldout_idx, train_idx = np.sort(order[:n_heldout]), np.sort(order[n_heldout:])

    def to_ds(idx: np.ndarray) -> datasets.Dataset:
        return datasets.Dataset.from_dict({"input_ids": ids[idx], "n_real": real[idx]})

    splits = {"train": to_ds(train_idx)}
    if len(heldout_idx):  # an empty split cannot be reloaded by `datasets`; no held-out split means no perplexity
        splits["heldout"] = to_ds(heldout_idx)
    dd = datasets.DatasetDict(splits)
    dataset_dir = out_dir / "dataset"
    dd.save_to_disk(str(dataset_dir))

    stats = {
        "sources": {name: asdict(c) for name, c in per_source.items()},
        "documents": {
            "read": sum(c.read for c in per_source.values()),
            "kept": sum(c.kept for c in per_source.values()),
            "dropped": _sum_dropped(per_source),
        },
        "tokenizer": getattr(tokenizer, "name_or_path", type(tokenizer).__name__),
        "block_size": block_size,
        "content_tokens": pack_counts.content_tokens,
        "separator_tokens": pack_counts.documents,
        "blocks": {"total": pack_counts.blocks, "train": len(train_idx), "heldout": len(heldout_idx)},
        "padding_tokens": pack_counts.padding_tokens,
        "padding_fraction": pack_counts.padding_fraction,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    (out_dir / "stats.json").write_text(json.dumps(stats, indent=2))
    (out_dir / "data_card.md").write_text(render_data_card(name, cfg, stats))
    log.info("ingest: %s", _summary(per_source))
    return IngestResult(dataset_dir=dataset_dir, stats=stats)


def _sum_dropped(per_source: dict[str, SourceCounts]) -> dict[str, int]:
    total: dict[str, int] = {}
    for c in per_source.values():
        for k, v in c.dropped.items():
            total[k] = total.get(k, 0) + v
    return total


def _summary(per_source: dict[str, SourceCounts]) -> str:
    return "; ".join(f"{n}: read {c.read}, kept {c.kept}, dropped {c.dropped}" for n, c in per_source.items())
