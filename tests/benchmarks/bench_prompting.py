"""In-context scoring speed: the shared demonstration prefix computed once (its KV cache reused for every test
example and label) vs recomputing ``prefix + prompt + verbalizer`` for each, on real chemprot text.

k demonstrations per label (13 labels), ``--examples`` test sentences, each scored against every label's verbalizer.
Reports seconds per test example both ways and the largest score difference (they must agree).

    HF_HUB_OFFLINE=1 .venv/bin/python tests/benchmarks/bench_prompting.py --data-dir ../shared/data --out runs/bench
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch


def main() -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from dapt.models import resolve_model
    from dapt.prompting import (
        choose_demonstrations,
        demonstration_prefix,
        encode,
        label_logprobs,
        label_logprobs_recomputed,
    )
    from dapt.recipe import TaskConfig
    from dapt.tasks import load_split

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--k-per-label", type=int, default=1)
    ap.add_argument("--examples", type=int, default=8)
    a = ap.parse_args()

    task = TaskConfig(name="chemprot", format="jsonl", train="chemprot/train.txt", dev="chemprot/dev.txt",
                      test="chemprot/test.txt")  # fmt: skip
    train, test = (load_split(task, s, a.data_dir).examples for s in ("train", "test"))
    labels = sorted({e.label for e in train})
    verbal = {lab: " " + lab.lower().replace("_", " ").replace("-", " ") for lab in labels}
    template = "{text}\nRelation:"
    demos = choose_demonstrations(train, labels, a.k_per_label, seed=0)
    model_dir = resolve_model(a.model)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    enc = encode(
        tok, demonstration_prefix(demos, template, verbal), [template.format(text=e.text) for e in test[: a.examples]],
        [verbal[lab] for lab in labels],
    )  # fmt: skip
    rows = {}
    for name, fn in (("cached_prefix", label_logprobs), ("recomputed", label_logprobs_recomputed)):
        t0 = time.perf_counter()
        scores = fn(model, enc)
        rows[name] = {"seconds_per_example": (time.perf_counter() - t0) / a.examples, "scores": scores}
    diff = (rows["cached_prefix"]["scores"] - rows["recomputed"]["scores"]).abs().max().item()
    out = {
        "model": a.model,
        "prefix_tokens": len(enc.prefix),
        "demonstrations": len(demos),
        "labels": len(labels),
        "examples": a.examples,
        "cached_s_per_example": rows["cached_prefix"]["seconds_per_example"],
        "recomputed_s_per_example": rows["recomputed"]["seconds_per_example"],
        "speedup": rows["recomputed"]["seconds_per_example"] / rows["cached_prefix"]["seconds_per_example"],
        "max_abs_score_difference": diff,
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(out, indent=2))
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "bench_prompting.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
