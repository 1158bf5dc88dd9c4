"""Where training runs (the first CUDA device when there is one, else the CPU) and how data gets there."""

from __future__ import annotations

import platform
from pathlib import Path

import torch

CPUINFO = Path("/proc/cpuinfo")


def cpu_flags(cpuinfo: Path = CPUINFO) -> set[str]:
    """The instruction-set flags the CPU reports (Linux ``/proc/cpuinfo``); empty where unknown."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return set()
    return {f for line in text.splitlines() if line.startswith("flags") for f in line.split(":", 1)[1].split()}


def cpu_model(cpuinfo: Path = CPUINFO) -> str:
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_vector_isa(cpuinfo: Path = CPUINFO) -> str:
    """The CPU's widest matmul-relevant instruction set (``amx_bf16``, ``avx512_bf16``, ``avx512f``, ``avx2``), or
    ``unknown``. Two CPUs of one model name can differ here: this pool's 2-core machines all say "AMD EPYC", some
    with AVX512_BF16 and some with AVX2 only."""
    flags = cpu_flags(cpuinfo)
    return next((isa for isa in ("amx_bf16", "avx512_bf16", "avx512f", "avx2") if isa in flags), "unknown")


def pick_device() -> torch.device:
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} threads)"


def configure_matmul(device: torch.device) -> None:
    """TF32 for fp32 matmuls and convolutions on CUDA (Ampere and later): what is left in fp32 under bf16 autocast
    (the optimizer's math is elementwise and unaffected). A no-op on the CPU."""
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def to_device(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A batch tensor built on the CPU, on ``device``: from pinned memory and without blocking the host on CUDA (the
    copy overlaps the previous step's kernels), a plain move elsewhere."""
    if device.type != "cuda" or t.device.type == "cuda":
        return t.to(device)
    return t.pin_memory().to(device, non_blocking=True)
