"""Resumable state: atomic checkpoints (accelerate state + dapt's own), the fingerprint a checkpoint must match, and
the per-rank data-order log."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path

import torch

from dapt.recipe import PretrainConfig

log = logging.getLogger("dapt.pretrain.train")


class DataOrderLog:
    """Which packed blocks each rank trained on, per micro-batch: ``data_order/rank<r>.jsonl`` (``[m, [block...]]``
    per line). Provenance, and how the tests check that ranks see different data."""

    def __init__(self, out_dir: Path, rank: int, start_step: int):
        self.path = out_dir / "data_order" / f"rank{rank}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.rows: list[str] = []
        if start_step == 0:
            self.path.write_text("")

    def add(self, micro_step: int, blocks: torch.Tensor) -> None:
        self.rows.append(json.dumps([micro_step, blocks.tolist()]))

    def flush(self) -> None:
        if self.rows:
            with self.path.open("a") as f:
                f.write("\n".join(self.rows) + "\n")
            self.rows = []


def run_fingerprint(
    cfg: PretrainConfig, base_model_dir: Path, dataset_dir: Path, replay_dir: Path | None = None
) -> str:
    """What a checkpoint must match to be resumed: the config, the starting model and the corpus (and replay)."""
    manifest = Path(dataset_dir).parent / "manifest.json"
    corpus = json.loads(manifest.read_text())["manifest_hash"] if manifest.is_file() else str(dataset_dir)
    parts = [cfg.model_dump(mode="json"), str(base_model_dir), corpus] + ([str(replay_dir)] if replay_dir else [])
    blob = json.dumps(parts, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def save_checkpoint(acc, out_dir: Path, state: dict, rank_state: dict) -> None:
    """Atomically replace ``out_dir/checkpoint``: model, optimizer (ZeRO shards: one per rank) and RNG through
    ``accelerate.save_state``, plus dapt's own state (step, scheduler, tokens, per-rank mask RNG), written beside
    it and renamed by the main process once every rank has written, so a kill at any moment leaves either the
    previous checkpoint or the new one, never half of one."""
    tmp = out_dir / "checkpoint.tmp"
    if acc.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    acc.wait_for_everyone()
    acc.save_state(str(tmp / "accelerate"))
    torch.save(rank_state, tmp / f"rank{acc.process_index}.pt")
    acc.wait_for_everyone()
    if acc.is_main_process:
        torch.save(state, tmp / "state.pt")
        final, old = out_dir / "checkpoint", out_dir / "checkpoint.old"
        if final.exists():
            shutil.rmtree(old, ignore_errors=True)
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    acc.wait_for_everyone()


def load_checkpoint(out_dir: Path, fingerprint: str, rank: int = 0) -> dict | None:
    """The newest complete checkpoint written for these settings, with this rank's state; ``dir`` is what
    ``accelerate.load_state`` reads."""
    for name in ("checkpoint", "checkpoint.old"):  # .old: a kill between the two renames of save_checkpoint
        path = out_dir / name / "state.pt"
        if path.is_file():
            # weights_only: a checkpoint holds tensors, numbers, lists and dicts; nothing in it needs unpickling code.
            state = torch.load(path, weights_only=True)
            if state.get("fingerprint") == fingerprint:
                return {
                    **state,
                    **torch.load(out_dir / name / f"rank{rank}.pt", weights_only=True),
                    "dir": out_dir / name / "accelerate",
                }
            log.warning("pretrain: ignoring %s (written for other settings)", path)
    return None
