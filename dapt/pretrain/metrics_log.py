"""Where pretraining's numbers go: ``metrics.jsonl`` (the record the report reads) and TensorBoard (optional)."""

from __future__ import annotations

import json
from pathlib import Path


class MetricsLog:
    """One JSON object per line in ``out_dir/metrics.jsonl``, mirrored to TensorBoard; main process only (the
    other ranks get a log whose writes do nothing)."""

    def __init__(self, out_dir: Path, active: bool, resume_bytes: int | None = None):
        self.path = out_dir / "metrics.jsonl"
        self.active = active
        self.file = None
        self.board = None
        if not active:
            return
        if resume_bytes is not None:
            with open(self.path, "r+") as f:  # drop what was logged after the checkpoint
                f.truncate(resume_bytes)
            self.file = self.path.open("a")
        else:
            self.file = self.path.open("w")
        self.board = _tensorboard(out_dir)

    def write(self, rec: dict, board: bool = True) -> None:
        if not self.active:
            return
        self.file.write(json.dumps(rec) + "\n")
        self.file.flush()
        if board:
            _board_write(self.board, rec)

    def bytes_written(self) -> int:
        return self.path.stat().st_size if self.active else 0

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
        if self.board is not None:
            self.board.close()


def _tensorboard(out_dir: Path):
    """A TensorBoard writer on ``out_dir/tensorboard``, or None where the ``tensorboard`` package is missing."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # optional: metrics.jsonl has the same numbers
        return None
    return SummaryWriter(str(out_dir / "tensorboard"))


def _board_write(board, rec: dict) -> None:
    if board is None:
        return
    for k, v in rec.items():
        if k not in ("step", "tokens", "epoch") and v is not None:
            board.add_scalar(f"pretrain/{k}", v, rec["step"])
    board.flush()
