"""The fine-tuning loop shared by sentence and token tasks: AdamW, linear warmup and decay, clipping, one dev
evaluation per epoch, and the weights of the best dev epoch restored at the end (model selection on dev only)."""

from __future__ import annotations

import contextlib
import copy
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from dapt.device import configure_matmul
from dapt.optim import adamw, decay_groups, linear_warmup_decay
from dapt.precision import Precision, autocast
from dapt.recipe import FinetuneConfig

log = logging.getLogger(__name__)
FP32 = Precision("fp32", "default")


@dataclass
class FitResult:
    history: list[dict]
    best_epoch: int
    best_dev_score: float
    best_dev_predictions: list
    train_seconds: float


def fit(
    model: torch.nn.Module,
    cfg: FinetuneConfig,
    steps_per_epoch: int,
    train_batches: Callable[[], Iterator[tuple[tuple, torch.Tensor]]],
    evaluate_dev: Callable[[], tuple[float, list]],
    metric: str,
    desc: str,
    progress: bool = True,
    param_groups: list[dict] | None = None,
    on_epoch_start: Callable[[int], None] | None = None,
    precision: Precision = FP32,
    compile_shapes: int | None = None,
) -> FitResult:
    """Train ``model`` for ``cfg.epochs``; keep (and load back) the weights of the best dev epoch.

    Args:
        train_batches: called once per epoch; yields ``(model inputs, targets)``; targets of -100 are ignored.
        evaluate_dev: returns ``(dev score, dev predictions)`` for the current weights.
        param_groups: the optimizer's groups (a fine-tuning strategy's, each with its ``lr``); default: every
            trainable parameter at ``cfg.learning_rate``.
        on_epoch_start: called with the epoch number (1-based) before it starts (gradual unfreezing).
        precision: bf16 runs the forward under autocast; weights, gradients and optimizer state stay fp32.
        compile_shapes: ``torch.compile`` the training forward, which will see at most this many input shapes
            (``train_batches`` pads to a few widths); ``evaluate_dev`` keeps calling the eager ``model``.
    """
    groups = param_groups if param_groups is not None else decay_groups(model, cfg.weight_decay)
    device = next(model.parameters()).device
    configure_matmul(device)
    opt = adamw(groups, cfg.learning_rate, device)
    total_steps = steps_per_epoch * cfg.epochs
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, linear_warmup_decay(total_steps, int(cfg.warmup_ratio * total_steps))
    )
    t0 = time.perf_counter()
    history: list[dict] = []
    best: dict = {"score": -1.0, "epoch": 0, "state": None, "preds": []}
    # The compiled wrapper shares the module's parameters; its compile time falls inside the timed loop.
    forward = torch.compile(model, dynamic=False) if compile_shapes else model
    bar = tqdm(total=total_steps, desc=desc, unit="step", disable=not progress)
    # One compile per shape; past dynamo's recompile limit (default 8) it would fall back to eager unannounced.
    limit = max(8, compile_shapes or 0)
    with torch._dynamo.config.patch(recompile_limit=limit) if compile_shapes else contextlib.nullcontext():
        for epoch in range(1, cfg.epochs + 1):
            if on_epoch_start is not None:
                on_epoch_start(epoch)
            total_loss, n_batches = torch.zeros((), device=device), 0
            for inputs, targets in train_batches():
                with autocast(precision, device):
                    logits = forward(*inputs)
                # The loss in fp32 whatever the logits' dtype: the softmax over classes is where bf16 loses most.
                logits = logits.float()
                loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
                loss.backward()
                torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.grad is not None], cfg.max_grad_norm)
                opt.step()
                sched.step()
                opt.zero_grad(set_to_none=True)
                total_loss += loss.detach()  # summed on the device: no host sync per step
                n_batches += 1
                bar.update(1)
            dev_score, dev_preds = evaluate_dev()
            train_loss = float(total_loss) / max(1, n_batches)
            history.append({"epoch": epoch, "train_loss": train_loss, f"dev_{metric}": dev_score})
            bar.set_postfix(loss=f"{train_loss:.3f}", dev=f"{dev_score:.4f}")
            if not progress:  # no bar (a worker's log): one line per epoch instead
                log.info("%s epoch %d: train loss %.4f, dev %s %.4f", desc, epoch, train_loss, metric, dev_score)
            if dev_score > best["score"]:
                best = {
                    "score": dev_score,
                    "epoch": epoch,
                    "state": copy.deepcopy(model.state_dict()),
                    "preds": dev_preds,
                }
    bar.close()
    model.load_state_dict(best["state"])
    return FitResult(history, best["epoch"], best["score"], best["preds"], time.perf_counter() - t0)
