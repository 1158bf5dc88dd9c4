"""The training engine: accelerate, optionally with DeepSpeed ZeRO, on one process or many.

One code path for every setting: a single CPU process, DDP on N processes (gloo on CPU, NCCL on GPU), and DeepSpeed
ZeRO stage 0-3 with optional optimizer/parameter offload. The DeepSpeed JSON is generated from the recipe and saved
with the run.

Traps this module exists to avoid (../shared/docs/ENVIRONMENT.md): with no CUDA, a plain ``Accelerator()`` under
``torchrun`` silently trains one full copy per process, so CPU runs get ``cpu=True`` (DDP over gloo) or, with
DeepSpeed, an explicit gloo process group; an optimizer named in the DeepSpeed config JIT-compiles ``fused_adam``,
so the optimizer is always a client ``torch.optim.AdamW``; ``accelerate launch --cpu --num_processes 2`` starts a
single process, so workers are started with ``torch.distributed.run`` (what ``accelerate launch --multi_gpu`` runs
underneath), which sets the RANK/WORLD_SIZE/MASTER_ADDR variables accelerate and DeepSpeed read.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch

from dapt.device import pick_device
from dapt.precision import resolve_precision
from dapt.recipe import PretrainConfig


def use_bf16(cfg: PretrainConfig) -> bool:
    """bf16 where it pays (a GPU or CPU with native bf16: :mod:`dapt.precision`), unless the recipe says otherwise."""
    return resolve_precision(cfg.mixed_precision, pick_device()).bf16


def deepspeed_config(cfg: PretrainConfig, world_size: int) -> dict:
    """The DeepSpeed JSON for ``cfg.zero_stage`` (numbers, not ``"auto"``: no dataloader is prepared)."""
    zero: dict = {"stage": cfg.zero_stage}
    if cfg.offload_optimizer:
        zero["offload_optimizer"] = {"device": "cpu", "pin_memory": torch.cuda.is_available()}
    if cfg.offload_params:
        zero["offload_param"] = {"device": "cpu", "pin_memory": torch.cuda.is_available()}
    if cfg.zero_stage == 3:
        # Export needs whole weights: gather the shards into one state dict on save.
        zero["stage3_gather_16bit_weights_on_model_save"] = True
    return {
        "train_micro_batch_size_per_gpu": cfg.batch_size,
        "gradient_accumulation_steps": cfg.gradient_accumulation_steps,
        "train_batch_size": cfg.batch_size * cfg.gradient_accumulation_steps * world_size,
        "gradient_clipping": cfg.max_grad_norm,
        "zero_optimization": zero,
        "bf16": {"enabled": use_bf16(cfg)},
        # The client AdamW (no JIT build of fused_adam / cpu_adam) is not on DeepSpeed's tested list.
        "zero_allow_untested_optimizer": True,
        "zero_force_ds_cpu_optimizer": False,
        "steps_per_print": 10**9,
        "wall_clock_breakdown": False,
    }


def make_accelerator(cfg: PretrainConfig, out_dir: Path | None = None):
    """An ``Accelerator`` for the recipe's engine settings; with DeepSpeed, the config is written to
    ``out_dir/deepspeed_config.json`` by the main process."""
    from accelerate import Accelerator
    from accelerate.utils import DeepSpeedPlugin, InitProcessGroupKwargs

    cuda = torch.cuda.is_available()
    mixed = "bf16" if use_bf16(cfg) else "no"
    forget_other_precision(mixed)
    common = {"gradient_accumulation_steps": cfg.gradient_accumulation_steps, "mixed_precision": mixed}
    if cfg.zero_stage is None:
        return Accelerator(cpu=not cuda, **common)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1 and "MASTER_ADDR" not in os.environ:
        # DeepSpeed wants a process group even for one process; without the variables it tries MPI (no mpi4py).
        os.environ.update({"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1"})
        os.environ.setdefault("MASTER_PORT", str(free_port()))
    ds = deepspeed_config(cfg, world)
    plugin = DeepSpeedPlugin(hf_ds_config=ds)
    handlers = [] if cuda else [InitProcessGroupKwargs(backend="gloo")]
    acc = Accelerator(deepspeed_plugin=plugin, kwargs_handlers=handlers, **common)
    if out_dir is not None and acc.is_main_process:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "deepspeed_config.json").write_text(json.dumps(ds, indent=2))
    return acc


def forget_other_precision(mixed: str) -> None:
    """accelerate keeps one process-wide state and refuses a second ``Accelerator`` with another precision. In one
    process (not under torchrun) runs are sequential, so a run that asks for another precision than the last one
    (an fp32 run after a bf16 one, in a sweep or a test session) starts from a fresh state. The process group, if
    any, is ``PartialState``'s and is kept."""
    from accelerate.state import AcceleratorState

    state = AcceleratorState._shared_state
    if state and "WORLD_SIZE" not in os.environ and str(state.get("_mixed_precision", mixed)) != mixed:
        AcceleratorState._reset_state()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_workers(num_processes: int, spec_path: Path, log_path: Path) -> None:
    """Run ``python -m dapt.pretrain.worker spec_path`` on ``num_processes`` local processes and wait.

    Raises:
        RuntimeError: a worker failed; the message has the tail of the workers' log.
    """
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={num_processes}",
        "-m",
        "dapt.pretrain.worker",
        str(spec_path),
    ]
    env = dict(os.environ)
    if not torch.cuda.is_available():
        # N processes on the CPU share its cores: one thread block each, not N x all cores.
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // num_processes))
    with open(log_path, "ab") as log:
        rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env).returncode
    if rc != 0:
        tail = Path(log_path).read_text(errors="replace").splitlines()[-40:]
        raise RuntimeError(f"pretraining workers exited with {rc}; last lines of {log_path}:\n" + "\n".join(tail))
