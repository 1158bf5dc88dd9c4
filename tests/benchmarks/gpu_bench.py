"""GPU checks and measurements in one script (run it with the `device` tool; it imports and runs tiny on CPU too).

Through dapt's real pretraining path (``run_pretrain``: accelerate, DeepSpeed, masked-position head, bf16):

1. BERT-base-shaped MLM (12 x 768, vocab 30,522) at block 128: tokens/s and MFU, plain (no ZeRO).
2. The same under DeepSpeed ZeRO-2 (one process): the overhead vs plain.
3. GPT-2-124M-shaped CLM (12 x 768, vocab 50,257) at block 1024: tokens/s and MFU.

Models are built from configs (random weights: speed does not depend on them) and trained on random token blocks
written as dapt shards, so the script needs no data or hub. Goals (issues 4, 14): BERT-base MLM >= 40% MFU, ZeRO-2
overhead <= 10%. MFU is against the peak dapt measures on the card (a bf16 matmul benchmark, ``dapt.measured_peak``)
and, for H100/H200, also against the datasheet's 989 TFLOP/s bf16 dense. Each row records what ran: precision
(``auto``: bf16 on a card that has it), attention implementation, fused AdamW, TF32. Writes ``<out>/gpu_bench.json``
with the card's name.

    python tests/benchmarks/gpu_bench.py --out "$OUT"              # on the GPU machine
    python tests/benchmarks/gpu_bench.py --out /tmp/gb --tiny      # CPU smoke run (what the test does)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

H100_BF16_DENSE = 989e12


def _tokenizer(kind: str, vocab_size: int, out: Path):
    """A fast tokenizer with the special tokens the loop needs (WordPiece for MLM, byte-level BPE for CLM)."""
    from tokenizers import BertWordPieceTokenizer, ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    words = [f"w{i} x{i % 97} y{i % 89}" for i in range(2000)]
    if kind == "mlm":
        t = BertWordPieceTokenizer()
        t.train_from_iterator(words, vocab_size=min(vocab_size, 1000))
        tok = PreTrainedTokenizerFast(
            tokenizer_object=t._tokenizer,
            cls_token="[CLS]",
            sep_token="[SEP]",
            pad_token="[PAD]",
            mask_token="[MASK]",
            unk_token="[UNK]",
        )
    else:
        t = ByteLevelBPETokenizer()
        t.train_from_iterator(words, vocab_size=min(vocab_size, 1000), special_tokens=["<|endoftext|>"])
        tok = PreTrainedTokenizerFast(
            tokenizer_object=t._tokenizer,
            bos_token="<|endoftext|>",
            eos_token="<|endoftext|>",
            pad_token="<|endoftext|>",
        )
    tok.save_pretrained(out)
    return tok


def _model(kind: str, tiny: bool, out: Path) -> None:
    from transformers import BertConfig, BertForMaskedLM, GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    if kind == "mlm":
        cfg = (
            BertConfig()
            if not tiny
            else BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128)
        )
        BertForMaskedLM(cfg).save_pretrained(out)
    else:
        cfg = GPT2Config() if not tiny else GPT2Config(n_embd=64, n_layer=2, n_head=2, n_positions=128)
        GPT2LMHeadModel(cfg).save_pretrained(out)


def _shards(out: Path, vocab: int, block: int, n_blocks: int) -> Path:
    from dapt.ingest.shards import ShardWriter

    rng = np.random.default_rng(0)
    w = ShardWriter(out, block, 4096)
    for split, n in (("train", n_blocks), ("heldout", 8)):
        for _ in range(n):
            w.add(split, rng.integers(5, vocab, block, dtype=np.int32), block)
    w.close()
    return out


def run_case(
    name: str,
    kind: str,
    block: int,
    batch: int,
    steps: int,
    zero: int | None,
    tiny: bool,
    peak: float | None,
    work: Path,
) -> dict:
    from dapt.pretrain import run_pretrain
    from dapt.recipe import PretrainConfig

    model_dir = work / f"{name}-model"
    _model(kind, tiny, model_dir)
    _tokenizer(kind, 30522 if kind == "mlm" else 50257, model_dir)
    vocab = json.loads((model_dir / "config.json").read_text())["vocab_size"]
    data = _shards(work / f"{name}-data", min(vocab, 1000), block, max(64, batch * 4))
    cfg = PretrainConfig(
        objective=kind,
        max_tokens=steps * batch * block,
        block_size=block,
        batch_size=batch,
        zero_stage=zero,
        log_every_steps=max(1, steps // 5),
        checkpoint_every_steps=None,
        peak_flops=peak,
    )
    t0 = time.perf_counter()
    s = run_pretrain(cfg, model_dir, data, work / f"{name}-run", progress=False).summary
    recs = [json.loads(x) for x in (work / f"{name}-run" / "metrics.jsonl").read_text().splitlines()]
    steady = [r for r in recs if "tokens_per_s" in r][1:] or [r for r in recs if "tokens_per_s" in r]
    return {
        "case": name,
        "objective": kind,
        "block": block,
        "batch": batch,
        "steps": s["steps"],
        "engine": s["engine"],
        "tokens_per_s": s["tokens_per_s"],
        "mfu": s["mfu"],
        "steady_tokens_per_s": float(np.median([r["tokens_per_s"] for r in steady])),
        "steady_mfu": float(np.median([r["mfu"] for r in steady])),
        "mfu_vs_datasheet": datasheet_mfu(s),
        "peak_flops": s["peak_flops"],
        "peak_flops_source": s["peak_flops_source"],
        "precision": s["precision"]["dtype"],
        "attention": s["attention"],
        "tf32": torch.backends.cuda.matmul.allow_tf32,
        "wall_s": round(time.perf_counter() - t0, 1),
        "device": s["device"],
    }


def datasheet_mfu(summary: dict) -> float | None:
    """MFU against H100/H200's 989 TFLOP/s bf16 dense (per GPU), where the card is one."""
    if not any(card in summary["device"] for card in ("H100", "H200")):
        return None
    return summary["tokens_per_s"] * summary["flops_per_token"] / (H100_BF16_DENSE * summary["processes"])


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description="dapt GPU pretraining benchmark")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--tiny", action="store_true", help="2-layer models, a few steps: a CPU smoke run")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument(
        "--peak-flops", type=float, default=None, help="per-GPU peak for MFU (default: measured on the card)"
    )
    a = ap.parse_args(argv)
    steps = a.steps or (4 if a.tiny else 120)
    cases = [
        ("bert-base-mlm", "mlm", 128 if not a.tiny else 32, 256 if not a.tiny else 4, None),
        ("bert-base-mlm-zero2", "mlm", 128 if not a.tiny else 32, 256 if not a.tiny else 4, 2),
        ("gpt2-124m-clm", "clm", 1024 if not a.tiny else 32, 32 if not a.tiny else 4, None),
    ]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, kind, block, batch, zero in cases:
            rows.append(run_case(name, kind, block, batch, steps, zero, a.tiny, a.peak_flops, Path(tmp)))
            print(json.dumps(rows[-1]), flush=True)
    plain, z2 = rows[0]["steady_tokens_per_s"], rows[1]["steady_tokens_per_s"]
    result = {
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch": torch.__version__,
        "peak_flops": rows[0]["peak_flops"],
        "peak_flops_source": rows[0]["peak_flops_source"],
        "rows": rows,
        "zero2_overhead": 1 - z2 / plain,
    }
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "gpu_bench.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}))
    return result


if __name__ == "__main__":
    main()
