"""Ingest benchmark (issues 3 and 15): MB/s end to end, tokenize+pack vs run_mlm's datasets.map + group_texts, and
peak memory at 1x and 10x input; with ``--workers 1 2``, the sharded ingest with each worker count (kept documents,
the packed shards' hash, MB/s, peak RSS of the main process and of the largest worker). Not a test: run it on a
quiet machine.

    HF_HUB_OFFLINE=1 .venv/bin/python tests/benchmarks/bench_ingest.py --data-dir ../shared/data --out runs/bench
    HF_HUB_OFFLINE=1 .venv/bin/python tests/benchmarks/bench_ingest.py --workers 1 2 --out runs/bench-workers
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ALL_STEPS = {
    "quality": {"min_chars": 20, "min_alpha_ratio": 0.25, "max_duplicate_line_fraction": 0.3},
    "detokenize": True,
    "dedup": {"exact": True, "near": True},
    "decontaminate": {"mode": "drop"},
}


def corpus_config(path: str, glob: str | None):
    from dapt.recipe import CorpusConfig

    src = {"name": "bench", "path": path, "format": "text"}
    if glob:
        src["glob"] = glob
    return CorpusConfig.model_validate({"sources": [src], **ALL_STEPS})


def ingest_once(data_root: Path, path: str, glob: str | None, out: Path, model: str, workers: int = 1) -> dict:
    """One full ingest, all steps on, decontaminated against dapt-biomed's tasks."""
    import hashlib

    from transformers import AutoTokenizer

    from dapt.ingest import run_ingest
    from dapt.models import resolve_model
    from dapt.recipe import load_recipe

    tok = AutoTokenizer.from_pretrained(resolve_model(model))
    tasks = load_recipe("dapt-biomed").tasks
    t0 = time.perf_counter()
    cfg = corpus_config(path, glob)
    res = run_ingest(cfg, data_root, out, tok, 128, 0.01, progress=False, tasks=tasks, workers=workers)
    wall = time.perf_counter() - t0
    s = res.stats
    shards = json.loads((out / "manifest.json").read_text())["shards"]
    return {
        "workers": workers,
        "input_shards": s["input_shards"],
        "dedup_buckets": s["dedup_buckets"],
        "packed_sha256": hashlib.sha256("".join(sh["sha256"] for sh in shards).encode()).hexdigest()[:16],
        "max_rss_mb_largest_worker": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "input_mb": s["input_bytes"] / 1e6,
        "seconds": round(wall, 2),
        "mb_per_s": round(s["input_bytes"] / 1e6 / wall, 2),
        "documents": s["documents"],
        "content_tokens": s["content_tokens"],
        "dedup_bucket_bytes": s["dedup_bucket_bytes"],
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def tokenize_pack(texts: list[str], model: str, block_size: int = 128) -> dict:
    """Ours (batched backend tokenization, streaming pack) vs run_mlm.py (datasets.map tokenization + group_texts),
    same texts, same tokenizer, same process."""
    import datasets
    from transformers import AutoTokenizer

    from dapt.ingest.cleaning import token_ids
    from dapt.ingest.pack import PackCounts, SpecialIds, pack_blocks
    from dapt.ingest.shard_map import BATCH_DOCS
    from dapt.models import resolve_model

    datasets.disable_caching()
    tok = AutoTokenizer.from_pretrained(resolve_model(model))

    def ours():
        counts = PackCounts()

        def ids():
            for i in range(0, len(texts), BATCH_DOCS):
                yield from token_ids(tok, texts[i : i + BATCH_DOCS])

        n = sum(1 for _ in pack_blocks(ids(), block_size, SpecialIds.from_tokenizer(tok), counts))
        return n, counts.content_tokens

    def run_mlm():
        def tokenize(batch):
            return tok(batch["text"], return_special_tokens_mask=True)

        def group_texts(examples):
            concatenated = {k: [t for ex in examples[k] for t in ex] for k in examples}
            total = (len(concatenated["input_ids"]) // block_size) * block_size
            return {k: [v[i : i + block_size] for i in range(0, total, block_size)] for k, v in concatenated.items()}

        ds = datasets.Dataset.from_dict({"text": texts})
        tokd = ds.map(tokenize, batched=True, remove_columns=["text"])
        special = sum(sum(m) for m in tokd["special_tokens_mask"])
        content = sum(len(x) for x in tokd["input_ids"]) - special
        grouped = tokd.map(group_texts, batched=True)
        return len(grouped), content

    out = {}
    for name, fn in (("dapt", ours), ("run_mlm", run_mlm)):
        t0 = time.perf_counter()
        blocks, content = fn()
        out[name] = {"seconds": round(time.perf_counter() - t0, 2), "blocks": blocks, "content_tokens": content}
    out["speedup"] = round(out["run_mlm"]["seconds"] / out["dapt"]["seconds"], 2)
    out["identical_content_tokens"] = out["dapt"]["content_tokens"] == out["run_mlm"]["content_tokens"]
    return out


def make_scaled_corpus(data_root: Path, dest: Path, copies: int) -> None:
    """``copies`` x biomed_unlabelled/ as distinct text: copy k > 0 shuffles the words of each line with seed k,
    so exact and near dedup keep it (the output and the dedup index really grow ``copies`` times). One file per
    source file and copy, as the corpus is (files are the unit of sharding)."""
    src_files = sorted((data_root / "biomed_unlabelled").rglob("*.txt"))
    dest.mkdir(parents=True, exist_ok=True)
    for task_dir in ("chemprot", "nicta_piboso"):  # decontamination reads the tasks relative to the same root
        link = dest.parent / task_dir
        if not link.exists():
            link.symlink_to(data_root / task_dir)
    for k in range(copies):
        rng = random.Random(k)
        for i, f in enumerate(src_files):
            with open(dest / f"copy{k:02d}-{i:03d}.txt", "w") as out:
                for line in f.read_text().splitlines():
                    words = line.split()
                    if k:
                        rng.shuffle(words)
                    out.write(" ".join(words) + "\n")


def child(args) -> None:
    res = ingest_once(Path(args.data_root), args.path, args.glob, Path(args.out), args.model, args.child_workers)
    print(json.dumps(res))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--out", default="runs/bench")
    ap.add_argument("--model", default="all-minilm-l6-v2")
    ap.add_argument("--skip-10x", action="store_true")
    ap.add_argument("--workers", type=int, nargs="+", help="the sharded-ingest table: these worker counts, 1x and 10x")
    ap.add_argument("--child-workers", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--data-root", help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    ap.add_argument("--glob", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    data_root, out = Path(args.data_dir).resolve(), Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    results = {"cpus": os.cpu_count(), "model": args.model}

    def sub(root: Path, path: str, glob: str | None, name: str, workers: int = 1) -> dict:
        cmd = [
            sys.executable,
            __file__,
            "--child",
            "--data-root",
            str(root),
            "--path",
            path,
            "--out",
            str(out / name),
            "--model",
            args.model,
            "--child-workers",
            str(workers),
        ] + (["--glob", glob] if glob else [])
        r = subprocess.run(cmd, capture_output=True, text=True, check=True)
        return json.loads(r.stdout.strip().splitlines()[-1])

    if args.workers:
        return workers_table(args, data_root, out, sub)
    # Each ingest in its own process, so max RSS is that ingest's peak.
    results["ingest_1x"] = sub(data_root, "biomed_unlabelled", "**/*.txt", "ingest-1x")
    print("ingest 1x:", json.dumps(results["ingest_1x"]))

    texts = [
        x
        for f in sorted((data_root / "biomed_unlabelled").rglob("*.txt"))
        for x in f.read_text().splitlines()
        if x.strip()
    ]
    results["tokenize_pack"] = tokenize_pack(texts, args.model)
    print("tokenize+pack:", json.dumps(results["tokenize_pack"]))

    if not args.skip_10x:
        scaled = out / "scaled"
        for copies in (1, 10):
            make_scaled_corpus(data_root, scaled / f"x{copies}", copies)
            res = sub(scaled, f"x{copies}", "*.txt", f"ingest-scaled-x{copies}")
            results[f"scaled_x{copies}"] = res
            print(f"scaled x{copies}:", json.dumps(res))
    (out / "bench_ingest.json").write_text(json.dumps(results, indent=2))
    print(f"wrote {out / 'bench_ingest.json'}")


def workers_table(args, data_root: Path, out: Path, sub) -> None:
    """The same input with each worker count, at 1x and 10x: identical output, MB/s, memory per worker."""
    results = {"cpus": os.cpu_count(), "model": args.model, "rows": []}
    inputs = [("1x", data_root, "biomed_unlabelled", "**/*.txt")]
    if not args.skip_10x:
        make_scaled_corpus(data_root, out / "scaled" / "x10", 10)
        inputs.append(("10x", out / "scaled", "x10", "*.txt"))
    for label, root, path, glob in inputs:
        for w in args.workers:
            row = {"input": label, **sub(root, path, glob, f"ingest-{label}-w{w}", w)}
            results["rows"].append(row)
            print(json.dumps(row), flush=True)
    (out / "bench_ingest_workers.json").write_text(json.dumps(results, indent=2))
    print(f"wrote {out / 'bench_ingest_workers.json'}")


if __name__ == "__main__":
    main()
