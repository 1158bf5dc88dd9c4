"""Continued pretraining loop (masked or causal LM): readable top to bottom, throughput and MFU from the first steps.

The loop is plain PyTorch driven through accelerate (:mod:`dapt.pretrain.engine`: one process, DDP, or DeepSpeed
ZeRO 0-3 on N processes): AdamW, linear warmup then linear decay, gradient clipping and accumulation, a stop on the
token budget, held-out domain and general perplexity along the way, metrics to ``metrics.jsonl`` and TensorBoard,
atomic checkpoints with exact resume. Batches are a function of the step, so a resumed run skips nothing and
replays nothing, and every rank computes its slice of the same global batch without communication.

:func:`_train` reads top to bottom: :func:`~dapt.pretrain.build.build_run` (accelerator, model, data, optimizer),
then the steps of :mod:`dapt.pretrain.steps` (start or resume, one optimizer step, log, evaluate, checkpoint,
summary) and :func:`~dapt.pretrain.export.export_model`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from dapt.pretrain import steps
from dapt.pretrain.build import build_run
from dapt.pretrain.checkpoint import DataOrderLog, run_fingerprint
from dapt.pretrain.export import export_model
from dapt.recipe import PretrainConfig

log = logging.getLogger(__name__)


@dataclass
@dataclass
class PretrainResult:
    model_dir: Path
    summary: dict


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
    opt = {"general_dir": general_dir, "heldout_dir": heldout_dir, "replay_dir": replay_dir}
    opt = {k: Path(v) if v else None for k, v in opt.items()}
    return _train(
        cfg, Path(base_model_dir), Path(dataset_dir), Path(out_dir), trust_remote_code, progress, description, **opt
    )


def _train(
    cfg: PretrainConfig,
    base_model_dir: Path,
    dataset_dir: Path,
    out_dir: Path,
    trust_remote_code: bool,
    progress: bool,
    description: str,
    general_dir: Path | None,
    heldout_dir: Path | None,
    replay_dir: Path | None,
) -> PretrainResult:
    s = build_run(cfg, base_model_dir, dataset_dir, out_dir, trust_remote_code, general_dir, heldout_dir, replay_dir)
    fingerprint = run_fingerprint(cfg, base_model_dir, dataset_dir, replay_dir)
    st, metrics = steps.start(s, out_dir, fingerprint)
    rank = s.acc.process_index
    order_log = DataOrderLog(out_dir, rank, st.step)
    clock = {"start": time.perf_counter(), "eval": 0.0, "window": time.perf_counter(), "window_tokens": 0}
    bar = tqdm(total=s.total_steps, initial=st.step, desc="pretrain", unit="step", disable=not (progress and s.main))
    epoch = 0
    for step in range(st.step, s.total_steps):
        loss, n_tok, epoch = steps.train_step(s, step, order_log)
        st.tokens_seen += n_tok
        clock["window_tokens"] += n_tok
        bar.update(1)
        if (step + 1) % cfg.log_every_steps == 0 or step == 0 or step + 1 == s.total_steps:
            steps.log_step(s, st, step, epoch, loss, clock, metrics, bar, progress)
        last = step + 1 == s.total_steps
        if cfg.eval_every_steps and (step + 1) % cfg.eval_every_steps == 0 and not last:
            with steps.not_training_time(clock):
                held, general = steps.evaluate(s)
                metrics.write({"step": step + 1, "tokens": st.tokens_seen, "heldout_ppl": held, "general_ppl": general})
        if cfg.checkpoint_every_steps and (step + 1) % cfg.checkpoint_every_steps == 0 and not last:
            with steps.not_training_time(clock):
                order_log.flush()
                steps.checkpoint(s, st, step + 1, fingerprint, clock, metrics, out_dir)
    bar.close()
    order_log.flush()
    seconds = st.prior_seconds + time.perf_counter() - clock["start"] - clock["eval"]
    ppl_after, gen_after = steps.evaluate(s)
    summary = steps.summary(s, st, seconds, ppl_after, gen_after, description, base_model_dir, general_dir, replay_dir)
    metrics.write({"step": s.total_steps, "tokens": st.tokens_seen, "heldout_ppl": ppl_after, "general_ppl": gen_after})
    metrics.close()
    model_dir = out_dir / "model"
    export_model(s.acc, s.loss_fn, s.peft_model, s.tokenizer, model_dir, summary, cfg, dataset_dir)
    if s.main:
        (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
        shutil.rmtree(out_dir / "checkpoint", ignore_errors=True)  # the finished model supersedes it
        log.info("pretrain: %s", summary)
    s.acc.wait_for_everyone()
    s.acc.end_training()
    return PretrainResult(model_dir=model_dir, summary=summary)
