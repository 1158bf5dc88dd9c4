"""One AdamW step on a real model's parameters: torch's unfused implementation (dapt before) vs the fused kernel that
``dapt.optim.adamw`` now uses on CPU too. Gradients are random (their values do not change the cost); each figure is
the median over ``--steps`` timed steps after 3 warm-up steps, both ways ``--repeats`` times, alternating.

    HF_HUB_OFFLINE=1 .venv/bin/python tests/benchmarks/bench_optimizer.py --out runs/bench-optimizer
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import statistics
import time
from pathlib import Path

import torch


def step_ms(model: torch.nn.Module, fused: bool, steps: int) -> float:
    from dapt.optim import adamw, decay_groups, unfused_adamw

    with contextlib.nullcontext() if fused else unfused_adamw():
        opt = adamw(decay_groups(model, 0.01), 1e-4, torch.device("cpu"))
    assert opt.defaults["fused"] == fused
    times = []
    for i in range(steps + 3):
        t0 = time.perf_counter()
        opt.step()
        if i >= 3:
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    from transformers import AutoModelForMaskedLM

    from dapt.models import resolve_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--models", default="splade-tiny,all-minilm-l6-v2")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rows = []
    for name in a.models.split(","):
        model = AutoModelForMaskedLM.from_pretrained(resolve_model(name))
        for p in model.parameters():
            p.grad = torch.randn_like(p)
        runs = {"unfused": [], "fused": []}
        for _ in range(a.repeats):
            runs["unfused"].append(step_ms(model, False, a.steps))
            runs["fused"].append(step_ms(model, True, a.steps))
        params = sum(p.numel() for p in model.parameters())
        row = {"model": name, "parameters": params, "unfused_ms": runs["unfused"], "fused_ms": runs["fused"]}
        row["speedup"] = statistics.median(runs["unfused"]) / statistics.median(runs["fused"])
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| model | parameters | unfused AdamW ms/step | fused ms/step | speedup |")
    print("|---|---:|---|---|---:|")
    for r in rows:
        unfused, fused = (", ".join(f"{x:.1f}" for x in r[k]) for k in ("unfused_ms", "fused_ms"))
        print(f"| {r['model']} | {r['parameters'] / 1e6:.1f}M | {unfused} | {fused} | {r['speedup']:.1f}x |")
    a.out.mkdir(parents=True, exist_ok=True)
    out = {"rows": rows, "threads": a.threads, "machine": platform.processor(), "torch": torch.__version__}
    (a.out / "bench_optimizer.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
