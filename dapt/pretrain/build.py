"""Building a pretraining run: accelerator, tokenizer, model (LoRA-wrapped where configured), the corpora's
packed blocks, optimizer and schedule, and the FLOPs per token MFU is measured against."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import torch

from dapt.device import configure_matmul
from dapt.measured_peak import peak_flops
from dapt.optim import adamw, decay_groups, linear_warmup_decay
from dapt.precision import Precision, resolve_precision
from dapt.pretrain.data import load_split_blocks
from dapt.pretrain.flops import flops_per_token, non_embedding_params
from dapt.pretrain.lm import LMLoss, load_lm
from dapt.pretrain.masked_head import supports_masked_head
from dapt.pretrain.whole_word import WordBoundaries
from dapt.recipe import PretrainConfig

log = logging.getLogger("dapt.pretrain.train")


@dataclass
class Blocks:
    """Packed blocks (ids) and their real lengths."""

    ids: torch.Tensor
    real: torch.Tensor


@dataclass
class Setup:
    """Everything built before the first step."""

    cfg: PretrainConfig
    acc: object
    tokenizer: object
    loss_fn: torch.nn.Module
    peft_model: object
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LambdaLR
    train: Blocks
    held: Blocks
    general: Blocks
    replay: Blocks
    global_batch: int
    n_replay: int
    total_steps: int
    flops_per_token: float
    peak: float
    peak_source: str
    precision: Precision
    trainable: int
    words: WordBoundaries | None
    mask_rng: torch.Generator

    @property
    def main(self) -> bool:
        return self.acc.is_main_process


def build_run(
    cfg: PretrainConfig,
    base_model_dir: Path,
    dataset_dir: Path,
    out_dir: Path,
    trust_remote_code: bool,
    general_dir: Path | None,
    heldout_dir: Path | None,
    replay_dir: Path | None,
) -> Setup:
    """Accelerator, tokenizer, model (LoRA-wrapped where configured), the corpora's blocks, optimizer, schedule.
    The order matters: the seed is set before anything random is initialised (LoRA weights, then dropout)."""
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    from dapt.pretrain.engine import make_accelerator

    hf_logging.set_verbosity_error()  # "newly initialized head" warnings are expected for MiniLM (no MLM head)
    acc = make_accelerator(cfg, out_dir)
    rank, world = acc.process_index, acc.num_processes
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
    train = Blocks(*load_split_blocks(dataset_dir, "train", cfg.block_size))
    held = Blocks(*load_split_blocks(heldout_dir or dataset_dir, "heldout", cfg.block_size))
    general = Blocks(*load_split_blocks(general_dir, "heldout", cfg.block_size))
    if len(train.ids) == 0:
        raise ValueError(f"no training blocks under {dataset_dir}/train: run `dapt ingest` first")
    block_size = train.ids.shape[1]
    if block_size != cfg.block_size:
        raise ValueError(f"dataset blocks are {block_size} tokens but pretrain.block_size is {cfg.block_size}")
    replay = Blocks(*load_split_blocks(replay_dir, "train", cfg.block_size))
    # Every rank builds the same global batch (a function of the step) and trains on its slice of it.
    global_batch = cfg.batch_size * world
    n_replay = round(cfg.replay_ratio * global_batch) if replay_dir else 0
    if replay_dir and not 0 < n_replay < global_batch:
        raise ValueError(f"replay: {cfg.replay_ratio} of batch {global_batch} is {n_replay} blocks; need 1..batch-1")
    if n_replay and len(replay.ids) < n_replay:
        raise ValueError(f"replay corpus {replay_dir} has {len(replay.ids)} train blocks; a batch needs {n_replay}")

    tokens_per_step = global_batch * cfg.gradient_accumulation_steps * block_size
    total_steps = max(1, math.ceil(cfg.max_tokens / tokens_per_step))
    n_params = non_embedding_params(model)
    fpt = flops_per_token(
        n_params,
        model.config.num_hidden_layers,
        model.config.hidden_size,
        block_size,
        vocab_size=model.config.vocab_size,
        head_fraction=cfg.mask_prob if cfg.objective == "mlm" and supports_masked_head(model) else 1.0,
    )
    # Per process (one GPU, or this process's share of the CPU threads), so the whole run's peak is world x that.
    precision = resolve_precision(cfg.mixed_precision, acc.device)
    measured = peak_flops(acc.device, precision.dtype, cfg.peak_flops)
    peak = measured.flops * world
    if acc.is_main_process:
        log.info(
            "pretrain: %s, budget %d tokens = %d steps x %d tokens (%d processes x %d blocks x %d accumulation; "
            "%.2f epochs of %d train blocks); %.1fM non-embedding params; %.3g FLOPs/token; %s (%s); "
            "peak %.3g FLOP/s (%s: %s)%s",
            cfg.objective,
            cfg.max_tokens,
            total_steps,
            tokens_per_step,
            world,
            cfg.batch_size,
            cfg.gradient_accumulation_steps,
            total_steps * global_batch * cfg.gradient_accumulation_steps / max(1, len(train.ids)),
            len(train.ids),
            n_params / 1e6,
            fpt,
            precision.dtype,
            precision.why,
            peak,
            measured.source,
            measured.key,
            f"; replay {n_replay} of {global_batch} blocks per batch" if n_replay else "",
        )

    if cfg.compile:
        # In place (Module.compile): state-dict keys, export and checkpoints are unchanged.
        model.base_model.compile()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    loss_fn = LMLoss(model, cfg.objective)
    configure_matmul(acc.device)
    # The model is still on the CPU here; accelerate moves it (the same Parameter objects) before the first step.
    opt = adamw(decay_groups(model, cfg.weight_decay), cfg.learning_rate, acc.device, betas=(0.9, 0.98), eps=1e-6)
    # The scheduler stays outside accelerate (whose wrapper steps it once per process); it sets the lr of the
    # optimizer's groups, which DeepSpeed's ZeRO optimizer reads.
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, linear_warmup_decay(total_steps, int(cfg.warmup_ratio * total_steps))
    )
    loss_fn, opt = acc.prepare(loss_fn, opt)
    return Setup(
        cfg=cfg,
        acc=acc,
        tokenizer=tokenizer,
        loss_fn=loss_fn,
        peft_model=peft_model,
        opt=opt,
        sched=sched,
        train=train,
        held=held,
        general=general,
        replay=replay,
        global_batch=global_batch,
        n_replay=n_replay,
        total_steps=total_steps,
        flops_per_token=fpt,
        peak=peak,
        peak_source=measured.source,
        precision=precision,
        trainable=trainable,
        # Held-out perplexity keeps token-level masks, so runs with and without whole-word masking stay comparable.
        words=WordBoundaries.from_tokenizer(tokenizer) if cfg.whole_word_mask else None,
        mask_rng=torch.Generator().manual_seed(cfg.seed * 7919 + rank),  # batch order is batch_at's (seed, epoch)
    )
