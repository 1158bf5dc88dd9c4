"""Fine-tune one (task, model, seed): train on train, choose the epoch on dev, predict test once.

Everything that could differ between variants is a function of the seed alone: the head's initialisation, the
dropout stream and the data order. The test split is predicted once, with the dev-selected weights; scoring it is
the evaluation stage's job.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from dapt.device import describe, pick_device
from dapt.evaluation.scores import score
from dapt.finetune.batching import iterate, length_grouped_batches, sorted_batches
from dapt.finetune.labels import LabelSpace, label_report
from dapt.finetune.model import SequenceClassifier, load_encoder
from dapt.finetune.tasks import load_split
from dapt.recipe import FinetuneConfig, TaskConfig

log = logging.getLogger(__name__)


@dataclass
class FinetuneResult:
    out_dir: Path
    summary: dict


@dataclass
class Encoded:
    ids: list[list[int]]
    type_ids: list[list[int]] | None
    """Segment ids, only for text pairs (text + context) and only where the tokenizer makes them."""


def encode_examples(tokenizer, examples, max_length: int) -> Encoded:
    """Token ids per example; with context, the pair ``[CLS] text [SEP] context [SEP]`` (longest part cut first)."""
    texts = [e.text for e in examples]
    if any(e.context for e in examples):
        enc = tokenizer(texts, [e.context for e in examples], truncation="longest_first", max_length=max_length)
        return Encoded(enc["input_ids"], enc.get("token_type_ids"))
    return Encoded(tokenizer(texts, truncation=True, max_length=max_length)["input_ids"], None)


@torch.no_grad()
def predict(model: SequenceClassifier, enc: Encoded, batch_size: int, pad_id: int) -> list[int]:
    model.eval()
    preds = [0] * len(enc.ids)
    batches = sorted_batches([len(s) for s in enc.ids], batch_size)
    for idx, ids, attn, types in iterate(enc.ids, batches, pad_id, enc.type_ids):
        dev = next(model.parameters()).device
        logits = model(ids.to(dev), attn.to(dev), types.to(dev) if types is not None else None)
        for j, p in zip(idx, logits.argmax(-1).tolist(), strict=True):
            preds[j] = p
    model.train()
    return preds


def _write_predictions(path: Path, examples, gold: list[int], preds: list[int], space: LabelSpace) -> None:
    with path.open("w") as f:
        for ex, g, p in zip(examples, gold, preds, strict=True):
            f.write(
                json.dumps(
                    {
                        "id": ex.example_id,
                        "gold": g,
                        "pred": p,
                        "gold_label": ex.label,
                        "pred_label": space.name(p),
                    }
                )
                + "\n"
            )


def run_finetune(
    task: TaskConfig,
    model_dir: Path,
    cfg: FinetuneConfig,
    seed: int,
    data_root: Path,
    out_dir: Path,
    trust_remote_code: bool = False,
    progress: bool = True,
) -> FinetuneResult:
    """Fine-tune ``model_dir`` on ``task`` with ``seed``; write dev/test predictions and a summary to ``out_dir``."""
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # an MLM checkpoint loaded as a bare encoder warns about its unused head
    out_dir.mkdir(parents=True, exist_ok=True)
    splits = {s: load_split(task, s, data_root) for s in ("train", "dev", "test")}
    space = LabelSpace.from_train([e.label for e in splits["train"].examples])
    gold = {s: [space.encode(e.label) for e in d.examples] for s, d in splits.items()}

    tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=trust_remote_code)
    seqs = {s: encode_examples(tokenizer, d.examples, cfg.max_length) for s, d in splits.items()}
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    encoder = load_encoder(model_dir, cfg.dropout, trust_remote_code)
    # Seeded after loading, so the head's init and the dropout stream depend on the seed alone, not on the variant.
    torch.manual_seed(seed)
    head_dropout = cfg.dropout if cfg.dropout is not None else getattr(encoder.config, "hidden_dropout_prob", 0.1)
    model = SequenceClassifier(encoder, space.num_labels, head_dropout)
    device = pick_device()
    model.to(device).train()

    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight", "norm.weight")
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    opt = torch.optim.AdamW(
        [
            {"params": [p for n, p in params if not n.endswith(no_decay)], "weight_decay": cfg.weight_decay},
            {"params": [p for n, p in params if n.endswith(no_decay)], "weight_decay": 0.0},
        ],
        lr=cfg.learning_rate,
    )
    gen = torch.Generator().manual_seed(seed)
    lengths = [len(s) for s in seqs["train"].ids]
    steps_per_epoch = -(-len(lengths) // cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    warmup = int(cfg.warmup_ratio * total_steps)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda s: (
            (s + 1) / max(1, warmup) if s < warmup else max(0.0, (total_steps - s) / max(1, total_steps - warmup))
        ),
    )
    train_gold = torch.tensor(gold["train"], device=device)

    t0 = time.perf_counter()
    history, best = [], {"score": -1.0, "epoch": 0, "state": None, "dev_preds": None}
    bar = tqdm(total=total_steps, desc=f"finetune {task.name} seed {seed}", unit="step", disable=not progress)
    for epoch in range(1, cfg.epochs + 1):
        total_loss, n_batches = 0.0, 0
        batches = length_grouped_batches(lengths, cfg.batch_size, gen)
        for idx, ids, attn, types in iterate(seqs["train"].ids, batches, pad_id, seqs["train"].type_ids):
            types = types.to(device) if types is not None else None
            loss = F.cross_entropy(model(ids.to(device), attn.to(device), types), train_gold[idx])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            total_loss += loss.item()
            n_batches += 1
            bar.update(1)
        dev_preds = predict(model, seqs["dev"], cfg.eval_batch_size, pad_id)
        dev_score = score(task.metric, dev_preds, gold["dev"])
        history.append({"epoch": epoch, "train_loss": total_loss / max(1, n_batches), f"dev_{task.metric}": dev_score})
        bar.set_postfix(loss=f"{total_loss / max(1, n_batches):.3f}", dev=f"{dev_score:.4f}")
        if not progress:
            log.info(
                "finetune %s seed %d epoch %d: train loss %.4f, dev %s %.4f",
                task.name,
                seed,
                epoch,
                total_loss / max(1, n_batches),
                task.metric,
                dev_score,
            )
        if dev_score > best["score"]:
            best = {
                "score": dev_score,
                "epoch": epoch,
                "state": copy.deepcopy(model.state_dict()),
                "dev_preds": dev_preds,
            }
    bar.close()
    train_seconds = time.perf_counter() - t0

    model.load_state_dict(best["state"])
    t1 = time.perf_counter()
    test_preds = predict(model, seqs["test"], cfg.eval_batch_size, pad_id)
    test_seconds = time.perf_counter() - t1
    _write_predictions(out_dir / "predictions_dev.jsonl", splits["dev"].examples, gold["dev"], best["dev_preds"], space)
    _write_predictions(out_dir / "predictions_test.jsonl", splits["test"].examples, gold["test"], test_preds, space)

    summary = {
        "task": task.name,
        "model_dir": str(model_dir),
        "seed": seed,
        "metric": task.metric,
        "best_epoch": best["epoch"],
        f"dev_{task.metric}": best["score"],
        "history": history,
        "train_seconds": round(train_seconds, 2),
        "device": describe(device),
        "test_predict_seconds": round(test_seconds, 2),
        "examples": {s: len(d.examples) for s, d in splits.items()},
        "quarantined": {s: d.quarantined for s, d in splits.items()},
        "labels": label_report(space, {s: [e.label for e in d.examples] for s, d in splits.items()}),
        "unseen_labels": list(space.unseen),
        "settings": cfg.model_dump(),
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return FinetuneResult(out_dir=out_dir, summary=summary)
