"""The steps of the pretraining loop, in the order it calls them: start (or resume), one optimizer step, the log
line, held-out evaluation, checkpoint, and the summary."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from dapt.device import describe, to_device
from dapt.pretrain.build import Setup
from dapt.pretrain.checkpoint import DataOrderLog, load_checkpoint, save_checkpoint
from dapt.pretrain.data import lm_batch, mixed_batch_at, model_mask
from dapt.pretrain.flops import mfu
from dapt.pretrain.lm import heldout_perplexity
from dapt.pretrain.metrics_log import MetricsLog

log = logging.getLogger("dapt.pretrain.train")


@dataclass
class State:
    """What a checkpoint carries forward."""

    step: int
    tokens_seen: int
    loss: float
    ppl_before: float
    gen_before: float
    prior_seconds: float
    resumed_from: int | None = None


def start(s: Setup, out_dir: Path, fingerprint: str) -> tuple[State, MetricsLog]:
    """Resume from the newest checkpoint written for these settings, or start: perplexities before training."""
    ckpt = load_checkpoint(out_dir, fingerprint, s.acc.process_index)
    if ckpt is None:
        held, general = evaluate(s)
        st = State(0, 0, float("nan"), held, general, 0.0)
        metrics = MetricsLog(out_dir, s.main)
        metrics.write({"step": 0, "tokens": 0, "heldout_ppl": held, "general_ppl": general}, board=False)
        return st, metrics
    s.acc.load_state(str(ckpt["dir"]))
    s.sched.load_state_dict(ckpt["scheduler"])
    s.mask_rng.set_state(ckpt["mask_rng"])
    torch.set_rng_state(ckpt["torch_rng"])  # dropout
    st = State(
        ckpt["step"],
        ckpt["tokens_seen"],
        ckpt["loss"],
        ckpt["ppl_before"],
        ckpt["gen_before"],
        ckpt["seconds"],
        resumed_from=ckpt["step"],
    )
    metrics = MetricsLog(out_dir, s.main, resume_bytes=ckpt["metrics_bytes"])
    if s.main:
        log.info(
            "pretrain: resumed from the checkpoint at step %d/%d (%d tokens)", st.step, s.total_steps, st.tokens_seen
        )
    return st, metrics


def train_step(s: Setup, step: int, order_log: DataOrderLog) -> tuple[torch.Tensor, int, int]:
    """One optimizer step (``gradient_accumulation_steps`` micro-batches); returns the last micro-batch's loss, the
    global batch's real tokens and the epoch."""
    cfg, acc = s.cfg, s.acc
    accum = cfg.gradient_accumulation_steps
    rank = acc.process_index
    mine = slice(rank * cfg.batch_size, (rank + 1) * cfg.batch_size)
    n_tokens = 0
    for micro in range(accum):
        # Micro-batch m of the whole run: identical on every rank, a function of (step, micro) alone.
        m = step * accum + micro
        ids, attn, epoch, idx = mixed_batch_at(
            m, (s.train.ids, s.train.real), (s.replay.ids, s.replay.real), s.global_batch, s.n_replay, cfg.seed
        )
        n_tokens += int(attn.sum())  # the global batch's tokens: no communication needed to count them
        ids, attn = ids[mine], attn[mine]
        order_log.add(m, idx[mine])
        inputs, labels = lm_batch(ids, attn, s.tokenizer, cfg, s.mask_rng, s.words)
        mask = model_mask(s.loss_fn, ids, attn, cfg, s.tokenizer)
        with acc.accumulate(s.loss_fn):
            dev = acc.device
            loss = s.loss_fn(to_device(inputs, dev), to_device(mask, dev), to_device(labels, dev))
            acc.backward(loss)
            if acc.sync_gradients:
                acc.clip_grad_norm_(s.loss_fn.parameters(), cfg.max_grad_norm)
            s.opt.step()
            s.opt.zero_grad(set_to_none=True)
    s.sched.step()
    return loss, n_tokens, epoch


def log_step(s: Setup, st: State, step: int, epoch: int, loss, clock: dict, metrics: MetricsLog, bar, progress) -> None:
    """Loss (averaged over ranks), learning rate, tokens/s and MFU over the window since the last log line."""
    # The only host sync of the loop outside evaluation: on log steps (the last step is one).
    if s.acc.num_processes > 1:
        st.loss = float(s.acc.reduce(loss.detach().float(), "mean"))
    else:
        st.loss = float(loss.detach())
    now = time.perf_counter()
    tps = clock["window_tokens"] / max(1e-9, now - clock["window"])
    rec = {
        "step": step + 1,
        "tokens": st.tokens_seen,
        "epoch": epoch,
        "loss": round(st.loss, 4),
        "lr": s.sched.get_last_lr()[0],
        "tokens_per_s": round(tps, 1),
        "mfu": mfu(tps, s.flops_per_token, s.peak),
    }
    metrics.write(rec)
    if s.main:
        bar.set_postfix(loss=f"{st.loss:.3f}", tok_s=f"{tps:,.0f}", mfu=f"{rec['mfu']:.1%}")
        if not progress:  # no bar (a worker's log): one line per logging interval instead
            log.info(
                "pretrain step %d/%d: loss %.4f, %.0f tokens/s, MFU %.2f%%",
                step + 1,
                s.total_steps,
                st.loss,
                tps,
                100 * rec["mfu"],
            )
    clock["window"], clock["window_tokens"] = now, 0


def evaluate(s: Setup) -> tuple[float, float]:
    """Held-out domain and general perplexity of the current weights."""
    return (
        heldout_perplexity(s.loss_fn, s.held.ids, s.held.real, s.cfg, s.tokenizer),
        heldout_perplexity(s.loss_fn, s.general.ids, s.general.real, s.cfg, s.tokenizer),
    )


class not_training_time:
    """Evaluation and checkpointing are not training time: keep them out of tokens/s, MFU and ``seconds``."""

    def __init__(self, clock: dict):
        self.clock = clock

    def __enter__(self):
        self.t0 = time.perf_counter()

    def __exit__(self, *exc):
        spent = time.perf_counter() - self.t0
        self.clock["eval"] += spent
        self.clock["window"] += spent


def checkpoint(s: Setup, st: State, step: int, fingerprint: str, clock: dict, metrics: MetricsLog, out_dir: Path):
    save_checkpoint(
        s.acc,
        out_dir,
        {
            "fingerprint": fingerprint,
            "step": step,
            "tokens_seen": st.tokens_seen,
            "loss": st.loss,
            "scheduler": s.sched.state_dict(),
            "ppl_before": st.ppl_before,
            "gen_before": st.gen_before,
            "seconds": st.prior_seconds + time.perf_counter() - clock["start"] - clock["eval"],
            "metrics_bytes": metrics.bytes_written(),
        },
        {"mask_rng": s.mask_rng.get_state(), "torch_rng": torch.get_rng_state()},
    )


def summary(
    s: Setup, st: State, seconds: float, ppl_after, gen_after, description, base_model_dir, general_dir, replay_dir
) -> dict:
    cfg, tps = s.cfg, st.tokens_seen / max(1e-9, seconds)
    return {
        "description": description,
        "base_model": str(base_model_dir),
        "objective": cfg.objective,
        "steps": s.total_steps,
        "tokens_seen": st.tokens_seen,
        "token_budget": cfg.max_tokens,
        "seconds": round(seconds, 2),
        "tokens_per_s": round(tps, 1),
        "flops_per_token": s.flops_per_token,
        "total_flops": s.flops_per_token * st.tokens_seen,
        "mfu": mfu(tps, s.flops_per_token, s.peak),
        "peak_flops": s.peak,
        "peak_flops_source": s.peak_source,
        "precision": s.precision.as_record(),
        "attention": getattr(s.acc.unwrap_model(s.loss_fn).model.config, "_attn_implementation", None),
        "final_loss": st.loss,
        "heldout_ppl_before": st.ppl_before,
        "heldout_ppl_after": ppl_after,
        "general_ppl_before": st.gen_before if general_dir else None,
        "general_ppl_after": gen_after if general_dir else None,
        "device": describe(s.acc.device),
        "processes": s.acc.num_processes,
        "engine": f"deepspeed zero-{cfg.zero_stage}"
        if cfg.zero_stage is not None
        else ("ddp" if s.acc.num_processes > 1 else "torch"),
        "gradient_accumulation_steps": cfg.gradient_accumulation_steps,
        "torch_threads": torch.get_num_threads(),
        "resumed_from_step": st.resumed_from,
        "replay_blocks_per_batch": s.n_replay,
        "replay_corpus": str(replay_dir) if replay_dir else None,
        "trainable_params": s.trainable,
        "lora_r": cfg.lora_r,
    }
