"""Continued-pretraining speed: dapt vs the Hugging Face ``run_mlm.py`` approach, same model, corpus and machine.

Baseline: ``Trainer`` + ``DataCollatorForLanguageModeling`` (mask rate 0.15), as ``run_mlm.py`` runs it, both with
``--line_by_line`` (one sentence per example, padded per batch) and with ``group_texts`` (sentences concatenated and
cut into blocks), fp32 as run_mlm.py runs on a CPU. dapt: packed blocks from ``dapt ingest`` and ``run_pretrain``
(masked-position head, one process): fp32 with torch's unfused AdamW (dapt before the fused CPU kernel), fp32, fp32
with ``compile: true``, and where the CPU has native bf16 (AVX512_BF16/AMX) bf16 autocast with and without compile
(steady state after the warm-up steps, and overall with the compile time counted). Corpus: BC5CDR sentences
(``biomed_unlabelled/MTL-Bioinformatics-2016/BC5CDR-IOB/train.tokens.txt``), block 128. The figure is **effective
tokens/s**: non-padding tokens trained on per second, over ``--steps`` optimizer steps after ``--warmup`` steps, all
in one process, one after another.

    HF_HUB_OFFLINE=1 .venv/bin/python tests/benchmarks/bench_pretrain.py --data-dir ../shared/data --out runs/bench
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import tempfile
import time
from itertools import chain
from pathlib import Path

import torch

MODELS = {"splade-tiny": 32, "all-minilm-l6-v2": 16}  # name -> batch size (as in the baseline figures)
CORPUS = "biomed_unlabelled/MTL-Bioinformatics-2016/BC5CDR-IOB/train.tokens.txt"


def _lines(data_dir: Path) -> list[str]:
    return [x.strip() for x in (data_dir / CORPUS).read_text(encoding="utf-8").splitlines() if x.strip()]


def hf_trainer(model_dir: Path, lines: list[str], batch: int, block: int, grouped: bool, steps: int, warmup: int):
    """tokens/s of the run_mlm.py recipe: Trainer + DataCollatorForLanguageModeling."""
    from datasets import Dataset
    from transformers import (
        AutoModelForMaskedLM,
        AutoTokenizer,
        DataCollatorForLanguageModeling,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    tok = AutoTokenizer.from_pretrained(model_dir)
    ds = Dataset.from_dict({"text": lines})
    if grouped:
        ds = ds.map(lambda b: tok(b["text"], return_special_tokens_mask=True), batched=True, remove_columns=["text"])

        def group_texts(examples):  # run_mlm.py's group_texts
            concat = {k: list(chain(*examples[k])) for k in examples}
            total = (len(concat["input_ids"]) // block) * block
            return {k: [t[i : i + block] for i in range(0, total, block)] for k, t in concat.items()}

        ds = ds.map(group_texts, batched=True)
    else:
        ds = ds.map(
            lambda b: tok(b["text"], truncation=True, max_length=block, return_special_tokens_mask=True),
            batched=True,
            remove_columns=["text"],
        )
    collator = DataCollatorForLanguageModeling(tok, mlm_probability=0.15)
    counts: list[int] = []

    def counting(features):
        out = collator(features)
        counts.append(int(out["attention_mask"].sum()) if "attention_mask" in out else int(out["input_ids"].numel()))
        return out

    marks: dict[int, float] = {}

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            if state.global_step in (warmup, warmup + steps):
                marks[state.global_step] = time.perf_counter()

    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=tmp,
            per_device_train_batch_size=batch,
            max_steps=warmup + steps,
            learning_rate=5e-4,
            use_cpu=True,
            report_to=[],
            save_strategy="no",
            logging_strategy="no",
            dataloader_num_workers=0,
            seed=0,
            disable_tqdm=True,
        )
        model = AutoModelForMaskedLM.from_pretrained(model_dir)
        Trainer(model=model, args=args, train_dataset=ds, data_collator=counting, callbacks=[Clock()]).train()
    tokens = sum(counts[warmup : warmup + steps])
    return tokens / (marks[warmup + steps] - marks[warmup])


def dapt_pretrain(
    model_dir: Path, data_dir: Path, batch: int, block: int, steps: int, warmup: int, precision: str, compile: bool
) -> tuple[float, float, float]:
    """(steady tokens/s after ``warmup`` steps, overall tokens/s with the first steps and any compile counted, MFU
    of the steady rate against the measured peak in the run's dtype)."""
    from transformers import AutoTokenizer

    from dapt.ingest import run_ingest
    from dapt.pretrain import run_pretrain
    from dapt.recipe import CorpusConfig, CorpusSource, PretrainConfig

    with tempfile.TemporaryDirectory() as tmp:
        tok = AutoTokenizer.from_pretrained(model_dir)
        corpus = CorpusConfig(sources=[CorpusSource(name="bc5cdr", path=CORPUS, format="text")], min_chars=1)
        ing = run_ingest(corpus, data_dir, Path(tmp) / "c", tok, block, 0.0, progress=False)
        cfg = PretrainConfig(
            max_tokens=(warmup + steps) * batch * block,
            block_size=block,
            batch_size=batch,
            learning_rate=5e-4,
            log_every_steps=1,
            heldout_fraction=0.0,
            checkpoint_every_steps=None,
            mixed_precision=precision,
            compile=compile,
        )
        summary = run_pretrain(cfg, model_dir, ing.dataset_dir, Path(tmp) / "p", progress=False).summary
        recs = [json.loads(x) for x in (Path(tmp) / "p" / "metrics.jsonl").read_text().splitlines()]
    steps_recs = [r for r in recs if "tokens_per_s" in r]
    # Each record covers the tokens since the previous one; keep those after the warmup.
    tokens = seconds = 0.0
    prev = None
    for r in steps_recs:
        if prev is not None and r["step"] > warmup:
            dt = r["tokens"] - prev["tokens"]
            tokens += dt
            seconds += dt / r["tokens_per_s"]
        prev = r
    steady = tokens / seconds
    return steady, summary["tokens_per_s"], steady * summary["flops_per_token"] / summary["peak_flops"]


def dapt_ways() -> dict[str, tuple[str, bool, bool]]:
    """way -> (mixed_precision, compile, fused AdamW). ``fp32_unfused_adamw`` is dapt before the fused CPU AdamW;
    bf16 ways only where the CPU has native bf16 (elsewhere dapt refuses bf16: it would be emulated)."""
    from dapt.precision import cpu_bf16_flags

    ways = {
        "dapt_fp32_unfused_adamw": ("no", False, False),
        "dapt_fp32": ("no", False, True),
        "dapt_fp32_compile": ("no", True, True),
    }
    if cpu_bf16_flags() or torch.cuda.is_available():
        ways |= {"dapt_bf16": ("bf16", False, True), "dapt_bf16_compile": ("bf16", True, True)}
    return ways


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", default=",".join(MODELS))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from dapt.models import resolve_model
    from dapt.optim import unfused_adamw

    lines = _lines(a.data_dir)
    rows, ways = [], dapt_ways()
    for name in a.models.split(","):
        model_dir, batch = resolve_model(name), MODELS[name]
        r = {"model": name, "batch": batch, "block": 128}
        r["hf_line_by_line"] = hf_trainer(model_dir, lines, batch, 128, False, a.steps, a.warmup)
        r["hf_group_texts"] = hf_trainer(model_dir, lines, batch, 128, True, a.steps, a.warmup)
        for way, (precision, compile, fused) in ways.items():
            with contextlib.nullcontext() if fused else unfused_adamw():
                r[way], r[f"{way}_overall"], r[f"{way}_mfu"] = dapt_pretrain(
                    model_dir, a.data_dir, batch, 128, a.steps, a.warmup, precision, compile
                )
        best = max(ways, key=lambda w: r[w])
        r["dapt"], r["dapt_best"] = r[best], best
        r["speedup_vs_line_by_line"] = r["dapt"] / r["hf_line_by_line"]
        r["speedup_vs_group_texts"] = r["dapt"] / r["hf_group_texts"]
        r["best_vs_fp32_unfused_adamw"] = r["dapt"] / r["dapt_fp32_unfused_adamw"]
        rows.append(r)
        print(json.dumps(r), flush=True)
    print("\ntokens/s (steady; overall with compile counted in brackets), MFU against the measured peak of the dtype\n")
    print(
        "| model | batch | HF line_by_line | HF group_texts | "
        + " | ".join(w.removeprefix("dapt_") for w in ways)
        + " | best vs group_texts | best vs fp32_unfused_adamw |"
    )
    print("|---|---:|---:|---:|" + "---:|" * (len(ways) + 2))
    for r in rows:
        cells = [
            f"{r[w]:,.0f}" + (f" ({r[w + '_overall']:,.0f})" if ways[w][1] else "") + f", {r[w + '_mfu']:.1%}"
            for w in ways
        ]
        print(
            f"| {r['model']} | {r['batch']} | {r['hf_line_by_line']:,.0f} | {r['hf_group_texts']:,.0f} | "
            + " | ".join(cells)
            + f" | {r['speedup_vs_group_texts']:.2f}x | {r['best_vs_fp32_unfused_adamw']:.2f}x |"
        )
    a.out.mkdir(parents=True, exist_ok=True)
    out = {
        "rows": rows,
        "steps": a.steps,
        "warmup": a.warmup,
        "threads": a.threads,
        "machine": platform.processor() or platform.machine(),
        "torch": torch.__version__,
    }
    (a.out / "bench_pretrain.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
