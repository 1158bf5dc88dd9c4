"""Continued pretraining loop (masked or causal LM): readable top to bottom, throughput and MFU from the first steps.

The loop is plain PyTorch driven through accelerate (:mod:`dapt.pretrain.engine`: one process, DDP, or DeepSpeed
ZeRO 0-3 on N processes): AdamW, linear warmup then linear decay, gradient clipping and accumulation, a stop on the
token budget, held-out domain and general perplexity along the way, metrics to ``metrics.jsonl`` and TensorBoard,
atomic checkpoints with exact resume. Batches are a function of the step, so a resumed run skips nothing and
replays nothing, and every rank computes its slice of the same global batch without communication.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from dapt.device import describe
from dapt.metrics import perplexity
from dapt.optim import decay_groups, linear_warmup_decay
from dapt.pretrain.document_mask import document_attention_mask
from dapt.pretrain.flops import flops_per_token, mfu, non_embedding_params
from dapt.pretrain.masked_head import mlm_loss, supports_masked_head
from dapt.pretrain.masking import mask_tokens
from dapt.pretrain.whole_word import WordBoundaries
from dapt.recipe import PretrainConfig

log = logging.getLogger(__name__)


@dataclass
class PretrainResult:
    model_dir: Path
    summary: dict


def batch_at(
    step: int, input_ids: torch.Tensor, n_real: torch.Tensor, batch_size: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor, int, torch.Tensor]:
    """The batch of a given step (ids, attention, epoch, block indices): epoch ``e`` is a permutation seeded by
    ``(seed, e)``, cut into full batches. A
    pure function of the step, so resuming at step k costs nothing (no replay of the k batches before it)."""
    n = len(input_ids)
    per_epoch = max(1, n // batch_size)
    epoch, i = divmod(step, per_epoch)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
    idx = order[i * batch_size : (i + 1) * batch_size]
    ids = input_ids[idx]
    attn = (torch.arange(input_ids.shape[1])[None, :] < n_real[idx][:, None]).long()
    return ids, attn, epoch, idx


def mixed_batch_at(
    step: int,
    domain: tuple[torch.Tensor, torch.Tensor],
    replay: tuple[torch.Tensor, torch.Tensor],
    batch_size: int,
    n_replay: int,
    seed: int,
) -> tuple[torch.Tensor, torch.Tensor, int, torch.Tensor]:
    """``batch_size - n_replay`` domain blocks then ``n_replay`` replay blocks, each from its own step-indexed
    stream (so resume stays exact and the domain order does not depend on the replay share); the epoch is the
    domain corpus's. Block indices of replay blocks are given as ``-1 - index`` (negative: the other corpus)."""
    ids, attn, epoch, idx = batch_at(step, *domain, batch_size - n_replay, seed)
    if n_replay:
        r_ids, r_attn, _, r_idx = batch_at(step, *replay, n_replay, seed + 1)
        ids, attn, idx = torch.cat([ids, r_ids]), torch.cat([attn, r_attn]), torch.cat([idx, -1 - r_idx])
    return ids, attn, epoch, idx


def _maskable(ids: torch.Tensor, attn: torch.Tensor, special_ids: list[int]) -> torch.Tensor:
    return attn.bool() & ~torch.isin(ids, torch.tensor(special_ids, dtype=ids.dtype))


def mask_batch(
    ids: torch.Tensor,
    attn: torch.Tensor,
    tokenizer,
    mask_prob: float,
    gen: torch.Generator,
    words: WordBoundaries | None = None,
):
    """Mask a batch of packed blocks: special tokens and padding are never chosen; with ``words``, whole words."""
    maskable = _maskable(ids, attn, tokenizer.all_special_ids)
    starts = words.word_starts(ids, maskable) if words is not None else None
    return mask_tokens(ids, maskable, tokenizer.mask_token_id, len(tokenizer), mask_prob, gen, starts)


def _split(dataset_dir: Path | None, split: str, block_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    from dapt.ingest.shards import load_blocks

    if dataset_dir is None:
        return torch.empty(0, block_size, dtype=torch.long), torch.empty(0, dtype=torch.long)
    ids, real = load_blocks(Path(dataset_dir), split)
    if len(ids) == 0:
        return torch.empty(0, block_size, dtype=torch.long), torch.empty(0, dtype=torch.long)
    return torch.from_numpy(ids).long(), torch.from_numpy(real).long()


def model_mask(model, ids: torch.Tensor, attn: torch.Tensor, cfg: PretrainConfig, tokenizer) -> torch.Tensor:
    """The attention mask the model gets: padding only, or per document with ``cfg.document_mask``."""
    if not cfg.document_mask:
        return attn
    sep = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    return document_attention_mask(ids, attn, sep, next(model.parameters()).dtype)


def load_lm(model_dir: Path, objective: str, trust_remote_code: bool = False):
    """The model with the head its objective trains: masked-LM (``mlm``) or causal-LM (``clm``)."""
    from transformers import AutoModelForCausalLM, AutoModelForMaskedLM

    auto = AutoModelForCausalLM if objective == "clm" else AutoModelForMaskedLM
    return auto.from_pretrained(model_dir, trust_remote_code=trust_remote_code, use_safetensors=True)


class LMLoss(torch.nn.Module):
    """The model and its objective as one module, so DDP and DeepSpeed wrap the whole forward (the masked-position
    head calls the encoder and the head separately; outside a wrapped forward, DDP would not sync them)."""

    def __init__(self, model: torch.nn.Module, objective: str):
        super().__init__()
        self.model = model
        self.objective = objective

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.objective == "clm":
            return self.model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss
        return mlm_loss(self.model, input_ids, attention_mask, labels)


def lm_batch(ids, attn, tokenizer, cfg: PretrainConfig, gen, words=None):
    """``(inputs, labels)``: MLM masks (see :func:`mask_batch`), or for CLM the block itself with padding
    ignored (the model shifts labels by one)."""
    if cfg.objective == "clm":
        return ids, torch.where(attn.bool(), ids, torch.full_like(ids, -100))
    return mask_batch(ids, attn, tokenizer, cfg.mask_prob, gen, words)


def _n_predicted(labels: torch.Tensor, objective: str) -> int:
    return int((labels[:, 1:] != -100).sum()) if objective == "clm" else int((labels != -100).sum())


@torch.no_grad()
def heldout_perplexity(loss_fn, input_ids, n_real, cfg: PretrainConfig, tokenizer, batch_size: int = 64) -> float:
    """Perplexity on held-out blocks: exp of the mean loss per predicted token. MLM: masked tokens, with a fixed
    mask seed so that every evaluation of every model sees the same masks; CLM: every next token. Every process
    evaluates the same blocks (ZeRO-3 needs all of them in every forward)."""
    if len(input_ids) == 0:
        return float("nan")
    loss_fn.eval()
    gen = torch.Generator().manual_seed(12345)
    positions = torch.arange(input_ids.shape[1])
    batch_loss, batch_n = [], []
    dev = next(loss_fn.parameters()).device
    for i in range(0, len(input_ids), batch_size):
        ids = input_ids[i : i + batch_size]
        attn = (positions[None, :] < n_real[i : i + batch_size][:, None]).long()
        inputs, labels = lm_batch(ids, attn, tokenizer, cfg, gen)
        n = _n_predicted(labels, cfg.objective)
        if n:
            mask = model_mask(loss_fn, ids, attn, cfg, tokenizer)
            batch_loss.append(float(loss_fn(inputs.to(dev), mask.to(dev), labels.to(dev))))
            batch_n.append(n)
    loss_fn.train()
    return perplexity(batch_loss, batch_n) if batch_n else float("nan")


def run_pretrain(
    cfg: PretrainConfig,
    base_model_dir: Path,
    dataset_dir: Path,
    out_dir: Path,
    trust_remote_code: bool = False,
    progress: bool = True,
    general_dir: Path | None = None,
    heldout_dir: Path | None = None,
    description: str = "",
    replay_dir: Path | None = None,
) -> PretrainResult:
    """Continue pretraining ``base_model_dir`` on the packed dataset; save a Hugging Face folder.

    With ``cfg.num_processes`` > 1 and no process group around, this starts that many worker processes (each runs
    this function) and waits for them; otherwise it trains in this process, as one rank of whatever launcher
    started it (``torchrun``, ``accelerate launch``, ``deepspeed``) or alone.

    Returns:
        ``out_dir/model`` (safetensors + tokenizer, loadable with ``AutoModelForMaskedLM`` / ``AutoModelForCausalLM``)
        and a summary (tokens seen, steps, seconds, tokens/s, MFU, perplexities before/after). Perplexity is measured
        on the held-out split of ``heldout_dir`` (default: the training corpus; the pipeline passes the domain corpus
        so every variant is measured on the same text) and, with ``general_dir``, on general text (forgetting), at
        the start, every ``cfg.eval_every_steps`` and at the end. With ``replay_dir``, ``cfg.replay_ratio`` of every
        batch's blocks come from that corpus's train split (replay), the rest from ``dataset_dir``.
    """
    args = {
        "cfg": cfg.model_dump(mode="json"),
        "base_model_dir": str(base_model_dir),
        "dataset_dir": str(dataset_dir),
        "out_dir": str(out_dir),
        "trust_remote_code": trust_remote_code,
        "general_dir": str(general_dir) if general_dir else None,
        "heldout_dir": str(heldout_dir) if heldout_dir else None,
        "description": description,
        "replay_dir": str(replay_dir) if replay_dir else None,
    }
    if cfg.num_processes > 1 and "WORLD_SIZE" not in os.environ:
        from dapt.pretrain.engine import launch_workers

        out_dir.mkdir(parents=True, exist_ok=True)
        spec = out_dir / "launch.json"
        spec.write_text(json.dumps(args, indent=2))
        log.info("pretrain: launching %d processes (log: %s)", cfg.num_processes, out_dir / "workers.log")
        launch_workers(cfg.num_processes, spec, out_dir / "workers.log")
        return PretrainResult(out_dir / "model", json.loads((out_dir / "summary.json").read_text()))
    return _train(
        cfg,
        Path(base_model_dir),
        Path(dataset_dir),
        Path(out_dir),
        trust_remote_code,
        progress,
        Path(general_dir) if general_dir else None,
        Path(heldout_dir) if heldout_dir else None,
        description,
        Path(replay_dir) if replay_dir else None,
    )


def _train(
    cfg: PretrainConfig,
    base_model_dir: Path,
    dataset_dir: Path,
    out_dir: Path,
    trust_remote_code: bool,
    progress: bool,
    general_dir: Path | None,
    heldout_dir: Path | None,
    description: str,
    replay_dir: Path | None,
) -> PretrainResult:
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    from dapt.pretrain.engine import make_accelerator

    hf_logging.set_verbosity_error()  # "newly initialized head" warnings are expected for MiniLM (no MLM head)
    acc = make_accelerator(cfg, out_dir)
    rank, world, main = acc.process_index, acc.num_processes, acc.is_main_process
    if cfg.num_processes > 1 and world != cfg.num_processes:
        raise RuntimeError(f"pretrain.num_processes is {cfg.num_processes} but {world} processes were started")
    torch.manual_seed(cfg.seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(base_model_dir, trust_remote_code=trust_remote_code)
    model = load_lm(base_model_dir, cfg.objective, trust_remote_code)
    model.train()
    peft_model = None
    if cfg.lora_r is not None:
        from peft import LoraConfig, get_peft_model

        peft_model = get_peft_model(
            model,
            LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, target_modules=list(cfg.lora_targets), bias="none"),
        )
        # The adapters are injected in place: the original model object (now with LoRA layers) is what trains.
        model = peft_model.base_model.model

    # The packed corpus is small next to the model's activations (48k x 128 int64 = 50 MB for 6M tokens).
    train_ids, train_real = _split(dataset_dir, "train", cfg.block_size)
    held_ids, held_real = _split(heldout_dir or dataset_dir, "heldout", cfg.block_size)
    gen_ids, gen_real = _split(general_dir, "heldout", cfg.block_size) if general_dir else _split(None, "", 0)
    if len(train_ids) == 0:
        raise ValueError(f"no training blocks under {dataset_dir}/train: run `dapt ingest` first")
    block_size = train_ids.shape[1]
    if block_size != cfg.block_size:
        raise ValueError(f"dataset blocks are {block_size} tokens but pretrain.block_size is {cfg.block_size}")
    replay_ids, replay_real = _split(replay_dir, "train", cfg.block_size) if replay_dir else _split(None, "", 0)
    # Every rank builds the same global batch (a function of the step) and trains on its slice of it.
    global_batch = cfg.batch_size * world
    n_replay = round(cfg.replay_ratio * global_batch) if replay_dir else 0
    if replay_dir and not 0 < n_replay < global_batch:
        raise ValueError(f"replay: {cfg.replay_ratio} of batch {global_batch} is {n_replay} blocks; need 1..batch-1")
    if n_replay and len(replay_ids) < n_replay:
        raise ValueError(f"replay corpus {replay_dir} has {len(replay_ids)} train blocks; a batch needs {n_replay}")

    accum = cfg.gradient_accumulation_steps
    tokens_per_step = global_batch * accum * block_size
    total_steps = max(1, math.ceil(cfg.max_tokens / tokens_per_step))
    warmup_steps = int(cfg.warmup_ratio * total_steps)
    n_params = non_embedding_params(model)
    fpt = flops_per_token(
        n_params,
        model.config.num_hidden_layers,
        model.config.hidden_size,
        block_size,
        vocab_size=model.config.vocab_size,
        head_fraction=cfg.mask_prob if cfg.objective == "mlm" and supports_masked_head(model) else 1.0,
    )
    # The peak is per GPU; on a CPU it is the whole machine's, however many processes share it.
    peak = cfg.peak_flops * (world if torch.cuda.is_available() else 1)
    if main:
        log.info(
            "pretrain: %s, budget %d tokens = %d steps x %d tokens (%d processes x %d blocks x %d accumulation; "
            "%.2f epochs of %d train blocks); %.1fM non-embedding params; %.3g FLOPs/token; peak %.3g FLOP/s%s",
            cfg.objective,
            cfg.max_tokens,
            total_steps,
            tokens_per_step,
            world,
            cfg.batch_size,
            accum,
            total_steps * global_batch * accum / max(1, len(train_ids)),
            len(train_ids),
            n_params / 1e6,
            fpt,
            peak,
            f"; replay {n_replay} of {global_batch} blocks per batch" if n_replay else "",
        )

    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    loss_fn = LMLoss(model, cfg.objective)
    opt = torch.optim.AdamW(decay_groups(model, cfg.weight_decay), lr=cfg.learning_rate, betas=(0.9, 0.98), eps=1e-6)
    # The scheduler stays outside accelerate (whose wrapper steps it once per process); it sets the lr of the
    # optimizer's groups, which DeepSpeed's ZeRO optimizer reads.
    sched = torch.optim.lr_scheduler.LambdaLR(opt, linear_warmup_decay(total_steps, warmup_steps))
    loss_fn, opt = acc.prepare(loss_fn, opt)
    device = acc.device

    # Held-out perplexity keeps token-level masks, so runs with and without whole-word masking stay comparable.
    words = WordBoundaries.from_tokenizer(tokenizer) if cfg.whole_word_mask else None
    metrics_path = out_dir / "metrics.jsonl"
    gen = torch.Generator().manual_seed(cfg.seed * 7919 + rank)  # masking; batch order is batch_at's (seed, epoch)
    fingerprint = run_fingerprint(cfg, base_model_dir, dataset_dir, replay_dir)
    ckpt = load_checkpoint(out_dir, fingerprint, rank)
    metrics = None
    if ckpt is not None:
        acc.load_state(str(ckpt["dir"]))
        sched.load_state_dict(ckpt["scheduler"])
        gen.set_state(ckpt["mask_rng"])
        torch.set_rng_state(ckpt["torch_rng"])  # dropout
        start_step, tokens_seen, loss_val = ckpt["step"], ckpt["tokens_seen"], ckpt["loss"]
        ppl_before, gen_before, prior_seconds = ckpt["ppl_before"], ckpt["gen_before"], ckpt["seconds"]
        if main:
            with open(metrics_path, "r+") as f:  # drop what was logged after the checkpoint
                f.truncate(ckpt["metrics_bytes"])
            metrics = metrics_path.open("a")
            log.info(
                "pretrain: resumed from the checkpoint at step %d/%d (%d tokens)", start_step, total_steps, tokens_seen
            )
    else:
        start_step, tokens_seen, loss_val, prior_seconds = 0, 0, float("nan"), 0.0
        ppl_before = heldout_perplexity(loss_fn, held_ids, held_real, cfg, tokenizer)
        gen_before = heldout_perplexity(loss_fn, gen_ids, gen_real, cfg, tokenizer)
        if main:
            metrics = metrics_path.open("w")
            metrics.write(
                json.dumps({"step": 0, "tokens": 0, "heldout_ppl": ppl_before, "general_ppl": gen_before}) + "\n"
            )
            metrics.flush()
    board = _tensorboard(out_dir) if main else None
    order_log = _DataOrderLog(out_dir, rank, start_step)

    t_start, eval_seconds = time.perf_counter(), 0.0
    t_window, tok_window = t_start, 0
    bar = tqdm(total=total_steps, initial=start_step, desc="pretrain", unit="step", disable=not (progress and main))
    mine = slice(rank * cfg.batch_size, (rank + 1) * cfg.batch_size)
    for step in range(start_step, total_steps):
        for micro in range(accum):
            # Micro-batch m of the whole run: identical on every rank, a function of (step, micro) alone.
            m = step * accum + micro
            ids, attn, epoch, idx = mixed_batch_at(
                m, (train_ids, train_real), (replay_ids, replay_real), global_batch, n_replay, cfg.seed
            )
            n_tok = int(attn.sum())  # the global batch's tokens: no communication needed to count them
            ids, attn = ids[mine], attn[mine]
            order_log.add(m, idx[mine])
            inputs, labels = lm_batch(ids, attn, tokenizer, cfg, gen, words)
            mask = model_mask(loss_fn, ids, attn, cfg, tokenizer)
            with acc.accumulate(loss_fn):
                loss = loss_fn(inputs.to(device), mask.to(device), labels.to(device))
                acc.backward(loss)
                if acc.sync_gradients:
                    acc.clip_grad_norm_(loss_fn.parameters(), cfg.max_grad_norm)
                opt.step()
                opt.zero_grad(set_to_none=True)
            tokens_seen += n_tok
            tok_window += n_tok
        sched.step()
        loss_val = loss.item()
        bar.update(1)
        if (step + 1) % cfg.log_every_steps == 0 or step == 0 or step + 1 == total_steps:
            loss_val = float(acc.reduce(loss.detach().float(), "mean")) if world > 1 else loss_val
            now = time.perf_counter()
            tps = tok_window / max(1e-9, now - t_window)
            rec = {
                "step": step + 1,
                "tokens": tokens_seen,
                "epoch": epoch,
                "loss": round(loss_val, 4),
                "lr": sched.get_last_lr()[0],
                "tokens_per_s": round(tps, 1),
                "mfu": mfu(tps, fpt, peak),
            }
            if main:
                metrics.write(json.dumps(rec) + "\n")
                metrics.flush()
                _board_write(board, rec)
                bar.set_postfix(loss=f"{loss_val:.3f}", tok_s=f"{tps:,.0f}", mfu=f"{rec['mfu']:.1%}")
                if not progress:  # no bar (a worker's log): one line per logging interval instead
                    log.info(
                        "pretrain step %d/%d: loss %.4f, %.0f tokens/s, MFU %.2f%%",
                        step + 1,
                        total_steps,
                        loss_val,
                        tps,
                        100 * rec["mfu"],
                    )
            t_window, tok_window = now, 0
        if cfg.eval_every_steps and (step + 1) % cfg.eval_every_steps == 0 and step + 1 < total_steps:
            t_eval = time.perf_counter()
            rec = {
                "step": step + 1,
                "tokens": tokens_seen,
                "heldout_ppl": heldout_perplexity(loss_fn, held_ids, held_real, cfg, tokenizer),
                "general_ppl": heldout_perplexity(loss_fn, gen_ids, gen_real, cfg, tokenizer),
            }
            if main:
                metrics.write(json.dumps(rec) + "\n")
                metrics.flush()
                _board_write(board, rec)
            # Evaluation time is not training time: keep it out of tokens/s and MFU.
            eval_seconds += time.perf_counter() - t_eval
            t_window += time.perf_counter() - t_eval
        if cfg.checkpoint_every_steps and (step + 1) % cfg.checkpoint_every_steps == 0 and step + 1 < total_steps:
            t_ck = time.perf_counter()
            if main:
                metrics.flush()
            order_log.flush()
            save_checkpoint(
                acc,
                out_dir,
                {
                    "fingerprint": fingerprint,
                    "step": step + 1,
                    "tokens_seen": tokens_seen,
                    "loss": loss_val,
                    "scheduler": sched.state_dict(),
                    "ppl_before": ppl_before,
                    "gen_before": gen_before,
                    "seconds": prior_seconds + time.perf_counter() - t_start - eval_seconds,
                    "metrics_bytes": metrics_path.stat().st_size if main else 0,
                },
                {"mask_rng": gen.get_state(), "torch_rng": torch.get_rng_state()},
            )
            eval_seconds += time.perf_counter() - t_ck
            t_window += time.perf_counter() - t_ck
    bar.close()
    order_log.flush()
    seconds = prior_seconds + time.perf_counter() - t_start - eval_seconds
    ppl_after = heldout_perplexity(loss_fn, held_ids, held_real, cfg, tokenizer)
    gen_after = heldout_perplexity(loss_fn, gen_ids, gen_real, cfg, tokenizer)

    model_dir = out_dir / "model"
    # ZeRO-3 holds a shard of each weight per rank: get_state_dict gathers whole weights (a collective).
    state = acc.get_state_dict(loss_fn)
    summary = {
        "description": description,
        "base_model": str(base_model_dir),
        "objective": cfg.objective,
        "steps": total_steps,
        "tokens_seen": tokens_seen,
        "token_budget": cfg.max_tokens,
        "seconds": round(seconds, 2),
        "tokens_per_s": round(tokens_seen / max(1e-9, seconds), 1),
        "flops_per_token": fpt,
        "total_flops": fpt * tokens_seen,
        "mfu": mfu(tokens_seen / max(1e-9, seconds), fpt, peak),
        "peak_flops": peak,
        "final_loss": loss_val,
        "heldout_ppl_before": ppl_before,
        "heldout_ppl_after": ppl_after,
        "general_ppl_before": gen_before if general_dir else None,
        "general_ppl_after": gen_after if general_dir else None,
        "device": describe(device),
        "processes": world,
        "engine": f"deepspeed zero-{cfg.zero_stage}"
        if cfg.zero_stage is not None
        else ("ddp" if world > 1 else "torch"),
        "gradient_accumulation_steps": accum,
        "torch_threads": torch.get_num_threads(),
        "resumed_from_step": ckpt["step"] if ckpt is not None else None,
        "replay_blocks_per_batch": n_replay,
        "replay_corpus": str(replay_dir) if replay_dir else None,
        "trainable_params": trainable,
        "lora_r": cfg.lora_r,
    }
    if main:
        metrics.write(
            json.dumps({"step": total_steps, "tokens": tokens_seen, "heldout_ppl": ppl_after, "general_ppl": gen_after})
            + "\n"
        )
        metrics.close()
        _board_write(board, {"step": total_steps, "heldout_ppl": ppl_after, "general_ppl": gen_after})
        if board is not None:
            board.close()
        plain = acc.unwrap_model(loss_fn).model
        if peft_model is not None:  # adapters folded into the weights: a plain model, no peft needed to load it
            plain = peft_model.merge_and_unload()
            state = {f"model.{k}": v for k, v in plain.state_dict().items()}
        # A gathered ZeRO state dict carries tied weights (MLM decoder = input embeddings) as separate copies;
        # save them once, as a plain save_pretrained would.
        tied = set(getattr(plain, "all_tied_weights_keys", None) or {})
        weights = {k.removeprefix("model."): v for k, v in state.items()}
        weights = {k: v for k, v in weights.items() if k not in tied}
        plain.save_pretrained(model_dir, state_dict=weights, safe_serialization=True)
        tokenizer.save_pretrained(model_dir)
        (model_dir / "README.md").write_text(model_card(summary, cfg, dataset_dir))
        (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
        shutil.rmtree(out_dir / "checkpoint", ignore_errors=True)  # the finished model supersedes it
        log.info("pretrain: %s", summary)
    acc.wait_for_everyone()
    acc.end_training()
    return PretrainResult(model_dir=model_dir, summary=summary)


class _DataOrderLog:
    """Which packed blocks each rank trained on, per micro-batch: ``data_order/rank<r>.jsonl`` (``[m, [block...]]``
    per line). Provenance, and how the tests check that ranks see different data."""

    def __init__(self, out_dir: Path, rank: int, start_step: int):
        self.path = out_dir / "data_order" / f"rank{rank}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.rows: list[str] = []
        if start_step == 0:
            self.path.write_text("")

    def add(self, micro_step: int, blocks: torch.Tensor) -> None:
        self.rows.append(json.dumps([micro_step, blocks.tolist()]))

    def flush(self) -> None:
        if self.rows:
            with self.path.open("a") as f:
                f.write("\n".join(self.rows) + "\n")
            self.rows = []


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


def model_card(summary: dict, cfg: PretrainConfig, dataset_dir: Path) -> str:
    """A Hugging Face model card: what the model was trained from, on what (the corpus manifest hash), how much."""
    manifest = Path(dataset_dir).parent / "manifest.json"
    corpus_hash = json.loads(manifest.read_text())["manifest_hash"] if manifest.is_file() else "unknown"
    return "\n".join(
        [
            "---",
            "library_name: transformers",
            "tags: [dapt, fill-mask, domain-adaptive-pretraining]",
            "---",
            "",
            f"# {summary['description'] or 'continued-pretrained model'}",
            "",
            f"- base model: `{summary['base_model']}`",
            f"- corpus manifest hash: `{corpus_hash}` (`{dataset_dir}`)",
            f"- objective: {cfg.objective}, mask rate {cfg.mask_prob}, block size {cfg.block_size}",
            (
                f"- replay: {summary['replay_blocks_per_batch']} of {cfg.batch_size} blocks per batch from "
                f"`{summary['replay_corpus']}`"
                if summary.get("replay_blocks_per_batch")
                else "- replay: none"
            ),
            f"- tokens seen: {summary['tokens_seen']:,} (budget {summary['token_budget']:,}) in {summary['steps']} "
            f"steps, {summary['seconds'] / 60:.1f} min on {summary['device']}",
            f"- held-out domain perplexity: {summary['heldout_ppl_before']:.2f} before, "
            f"{summary['heldout_ppl_after']:.2f} after",
            (
                f"- held-out general perplexity: {summary['general_ppl_before']:.2f} before, "
                f"{summary['general_ppl_after']:.2f} after"
                if summary.get("general_ppl_before") is not None
                else "- held-out general perplexity: not measured"
            ),
            "",
            "Produced by dapt (`dapt pretrain`).",
            "",
        ]
    )


def run_fingerprint(
    cfg: PretrainConfig, base_model_dir: Path, dataset_dir: Path, replay_dir: Path | None = None
) -> str:
    """What a checkpoint must match to be resumed: the config, the starting model and the corpus (and replay)."""
    manifest = Path(dataset_dir).parent / "manifest.json"
    corpus = json.loads(manifest.read_text())["manifest_hash"] if manifest.is_file() else str(dataset_dir)
    parts = [cfg.model_dump(mode="json"), str(base_model_dir), corpus] + ([str(replay_dir)] if replay_dir else [])
    blob = json.dumps(parts, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def save_checkpoint(acc, out_dir: Path, state: dict, rank_state: dict) -> None:
    """Atomically replace ``out_dir/checkpoint``: model, optimizer (ZeRO shards: one per rank) and RNG through
    ``accelerate.save_state``, plus dapt's own state (step, scheduler, tokens, per-rank mask RNG), written beside
    it and renamed by the main process once every rank has written, so a kill at any moment leaves either the
    previous checkpoint or the new one, never half of one."""
    tmp = out_dir / "checkpoint.tmp"
    if acc.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    acc.wait_for_everyone()
    acc.save_state(str(tmp / "accelerate"))
    torch.save(rank_state, tmp / f"rank{acc.process_index}.pt")
    acc.wait_for_everyone()
    if acc.is_main_process:
        torch.save(state, tmp / "state.pt")
        final, old = out_dir / "checkpoint", out_dir / "checkpoint.old"
        if final.exists():
            shutil.rmtree(old, ignore_errors=True)
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    acc.wait_for_everyone()


def load_checkpoint(out_dir: Path, fingerprint: str, rank: int = 0) -> dict | None:
    """The newest complete checkpoint written for these settings, with this rank's state; ``dir`` is what
    ``accelerate.load_state`` reads."""
    for name in ("checkpoint", "checkpoint.old"):  # .old: a kill between the two renames of save_checkpoint
        path = out_dir / name / "state.pt"
        if path.is_file():
            state = torch.load(path, weights_only=False)
            if state.get("fingerprint") == fingerprint:
                return {
                    **state,
                    **torch.load(out_dir / name / f"rank{rank}.pt", weights_only=False),
                    "dir": out_dir / name / "accelerate",
                }
            log.warning("pretrain: ignoring %s (written for other settings)", path)
    return None
