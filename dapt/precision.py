"""Which floating-point precision a run computes in, decided once per device and recorded with the run.

``auto`` means bf16 autocast (fp32 master weights, fp32 optimizer state) wherever the hardware has native bf16
matrix units: a CUDA GPU that supports bf16, or a CPU with AVX512_BF16 or AMX-BF16. On the 2-core EPYCs of this
project's pool that have AVX512_BF16, a bf16 matmul runs at about 4x fp32 (../shared/docs/ENVIRONMENT.md).
Elsewhere bf16 is emulated and slower than fp32, so ``auto`` stays in fp32 there, and an explicit ``bf16`` on such
a CPU is refused: on an AVX2-only EPYC (no AVX-512) a bf16 matmul measured 1 GFLOP/s against fp32's 157, so a bf16
run there would look like a hang.

Not ``torch.ops.mkldnn._is_mkldnn_bf16_supported()``: it is true on any AVX512 CPU, including those that emulate
bf16 at a fraction of fp32's speed.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import torch

from dapt.device import cpu_flags, cpu_model, cpu_vector_isa

CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@cache
def cpu_bf16_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> tuple[str, ...]:
    """The native-bf16 instruction sets this CPU reports (Linux ``/proc/cpuinfo``); empty where unknown."""
    flags = cpu_flags(cpuinfo)
    return tuple(f for f in CPU_BF16_FLAGS if f in flags)


@dataclass(frozen=True)
class Precision:
    """What ran: ``dtype`` is the autocast dtype (``bf16``) or ``fp32``; ``why`` says how it was chosen."""

    dtype: str
    why: str

    @property
    def bf16(self) -> bool:
        return self.dtype == "bf16"

    def as_record(self) -> dict:
        return {"dtype": self.dtype, "why": self.why}


def resolve_precision(setting: str, device: torch.device | str) -> Precision:
    """The precision for a recipe's ``mixed_precision`` setting (``auto``, ``no``, ``bf16``) on ``device``."""
    device = torch.device(device)
    if setting == "no":
        return Precision("fp32", "mixed_precision: no")
    if setting == "bf16":
        if device.type == "cpu" and not cpu_bf16_flags():
            raise ValueError(
                f"mixed_precision: bf16 needs native bf16 on the CPU ({' or '.join(CPU_BF16_FLAGS)}), which this "
                f"{cpu_model()} ({cpu_vector_isa()}) does not report: bf16 would be emulated, over 100x slower than "
                "fp32. Use mixed_precision: auto (bf16 where the hardware has it) or no."
            )
        return Precision("bf16", "mixed_precision: bf16")
    if setting != "auto":
        raise ValueError(f"mixed_precision must be auto, no or bf16, not {setting!r}")
    if device.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return Precision("bf16", f"auto: {torch.cuda.get_device_name(device)} supports bf16")
        return Precision("fp32", f"auto: {torch.cuda.get_device_name(device)} has no bf16")
    flags = cpu_bf16_flags()
    if device.type == "cpu" and flags:
        return Precision("bf16", f"auto: CPU has {'/'.join(flags)}")
    return Precision("fp32", f"auto: no native bf16 on this {device.type} ({cpu_model()}, {cpu_vector_isa()})")


def autocast(precision: Precision, device: torch.device | str):
    """A context that runs matmuls in bf16 when ``precision`` says so (weights and losses stay fp32); a no-op in
    fp32."""
    device = torch.device(device)
    if not precision.bf16:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)
