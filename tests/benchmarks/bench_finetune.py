"""Fine-tuning speed and score side by side: fp32 with torch's unfused AdamW (dapt before the fused CPU kernel), fp32,
fp32 compiled (``finetune.compile``: widths padded to buckets), and bf16 autocast (eager and compiled) where the CPU
has native bf16; the same model, task, seed and settings.

all-MiniLM-L6-v2 on the whole chemprot train set (4,169 examples) with ``dapt-biomed-cpu``'s fine-tuning settings
(lr 1e-4, batch 32, max length 128), ``--epochs`` epochs, each epoch's dev scoring included in its time (as in a run).
Reports seconds per epoch (training + dev prediction; a compiled row's compile time included), test prediction
seconds, and dev micro-F1 per epoch. ``--ways fp32,fp32+compile`` runs a subset.

    HF_HUB_OFFLINE=1 .venv/bin/python tests/benchmarks/bench_finetune.py --data-dir ../shared/data --out runs/bench
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import tempfile
from pathlib import Path

import torch

WAYS = {  # name: (mixed_precision, fused AdamW, compile)
    "fp32-unfused": ("no", False, False),
    "fp32": ("no", True, False),
    "fp32+compile": ("no", True, True),
    "bf16": ("bf16", True, False),
    "bf16+compile": ("bf16", True, True),
}


def run(model: str, data_dir: Path, precision: str, fused: bool, compiled: bool, epochs: int, seed: int) -> dict:
    from dapt.finetune import run_finetune
    from dapt.models import resolve_model
    from dapt.optim import unfused_adamw
    from dapt.recipe import FinetuneConfig, TaskConfig

    task = TaskConfig(
        name="chemprot", format="jsonl", train="chemprot/train.txt", dev="chemprot/dev.txt", test="chemprot/test.txt"
    )
    cfg = FinetuneConfig(
        learning_rate=1e-4,
        epochs=epochs,
        batch_size=32,
        max_length=128,
        warmup_ratio=0.1,
        mixed_precision=precision,
        compile=compiled,
    )
    with tempfile.TemporaryDirectory() as tmp, contextlib.nullcontext() if fused else unfused_adamw():
        s = run_finetune(task, resolve_model(model), cfg, seed, data_dir, Path(tmp), progress=False).summary
    return {
        "model": model,
        "precision": s["precision"]["dtype"],
        "adamw": "fused" if fused else "unfused",
        "compiled": s["compiled"],
        "seconds_per_epoch": s["train_seconds"] / epochs,
        "test_predict_seconds": s["test_predict_seconds"],
        "dev_micro_f1": [h["dev_micro_f1"] for h in s["history"]],
        "best_dev_micro_f1": s["dev_micro_f1"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--model", default="all-minilm-l6-v2")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ways", default=",".join(WAYS), help=f"comma-separated, from {', '.join(WAYS)}")
    a = ap.parse_args()
    from dapt.precision import cpu_bf16_flags

    ways = [w for w in a.ways.split(",") if w]
    if unknown := [w for w in ways if w not in WAYS]:
        ap.error(f"unknown --ways {unknown}; choose from {list(WAYS)}")
    if not cpu_bf16_flags():  # emulated bf16 is slower than fp32: not a row worth timing
        ways = [w for w in ways if not w.startswith("bf16")]
    rows = []
    for w in ways:
        rows.append(run(a.model, a.data_dir, *WAYS[w], a.epochs, a.seed))
        print(json.dumps(rows[-1]), flush=True)
    cols = ["model", "precision", "AdamW", "compiled", "s / epoch (with dev)", "test predict s", "dev F1 per epoch"]
    print("\n| " + " | ".join(cols) + " |")
    print("|---|---|---|---|---:|---:|---|")
    for r in rows:
        f1 = ", ".join(f"{x:.4f}" for x in r["dev_micro_f1"])
        secs = f"{r['seconds_per_epoch']:.1f} | {r['test_predict_seconds']:.1f}"
        print(f"| {r['model']} | {r['precision']} | {r['adamw']} | {r['compiled']} | {secs} | {f1} |")
    a.out.mkdir(parents=True, exist_ok=True)
    out = {"rows": rows, "machine": platform.processor() or platform.machine(), "torch": torch.__version__}
    (a.out / "bench_finetune.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
