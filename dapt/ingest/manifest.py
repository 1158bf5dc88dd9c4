"""``manifest.json``: what an ingested corpus was made from and of. ``manifest_hash`` covers the inputs' content,
the config, the tokenizer and the split settings (no timestamps, no paths outside the data root), so two ingests
of the same data with the same settings have the same hash on any machine; reports cite it."""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from dapt.recipe import CorpusConfig, TaskConfig
from dapt.run.provenance import file_sha256

PACKAGES = ("dapt", "numpy", "pyarrow", "tokenizers", "transformers", "datasets")


def tokenizer_hash(tokenizer) -> str:
    vocab = sorted(tokenizer.get_vocab().items())
    return hashlib.sha256(json.dumps([type(tokenizer).__name__, vocab]).encode()).hexdigest()[:16]


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


def _rel(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def build_manifest(
    cfg: CorpusConfig,
    data_root: Path,
    files: dict[str, list[Path]],
    tasks: Sequence[TaskConfig],
    tokenizer,
    block_size: int,
    heldout_fraction: float,
    seed: int,
    stats: dict,
    shards: list[dict],
) -> dict:
    inputs = []
    for src in cfg.sources:
        if src.format == "hf":
            inputs.append({"source": src.name, "hf": src.path, "config": src.hf_config, "split": src.hf_split})
        for p in files.get(src.name, []):
            inputs.append(
                {"source": src.name, "path": _rel(p, data_root), "bytes": p.stat().st_size, "sha256": file_sha256(p)}
            )
    task_files = []
    if cfg.decontaminate.mode != "off":
        for t in tasks:
            for split in cfg.decontaminate.splits:
                p = data_root / getattr(t, split)
                task_files.append(
                    {"task": t.name, "split": split, "path": _rel(p, data_root), "sha256": file_sha256(p)}
                )
    hashed = {
        "inputs": inputs,
        "decontamination_inputs": task_files,
        "config": cfg.model_dump(mode="json"),
        "tokenizer": tokenizer_hash(tokenizer),
        "block_size": block_size,
        "heldout_fraction": heldout_fraction,
        "seed": seed,
    }
    digest = hashlib.sha256(json.dumps(hashed, sort_keys=True).encode()).hexdigest()[:16]
    return {
        "manifest_hash": digest,
        **hashed,
        "tokenizer_name": stats["tokenizer"],
        "counts": {k: stats[k] for k in ("documents", "content_tokens", "blocks", "padding_fraction")},
        "shards": shards,
        "versions": versions(),
        "argv": sys.argv[:1],
    }
