"""The hardware peak MFU is measured against: a short dense matmul benchmark in the run's dtype on the run's device,
cached per machine.

An assumed peak makes MFU meaningless across machines (a fixed 1e12 FLOP/s is several times what 2 EPYC cores do in
fp32, a fraction of what they do in bf16). The best of a few large square matmuls is the practical ceiling the
model's own matmuls can reach; on a GPU it lands near, and below, the datasheet's dense figure. ``peak_flops`` in a
recipe still overrides it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from dapt.device import cpu_model, cpu_vector_isa

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


@dataclass(frozen=True)
class Peak:
    flops: float
    """FLOP/s of one process on its device (one GPU, or the CPU threads this process runs)."""
    source: str
    """``measured``, ``cached`` (measured earlier on this machine) or ``recipe``."""
    key: str


def cache_path() -> Path:
    root = os.environ.get("DAPT_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dapt"
    return Path(root) / "peak_flops.json"


def machine_key(device: torch.device, dtype: str) -> str:
    """What the peak depends on: the device model, the threads and widest vector instructions (CPU), the dtype and
    the torch build. The CPU's model name alone is not enough: this pool's 2-core machines all report "AMD EPYC",
    some with AVX512_BF16 (fp32 ~220 GFLOP/s) and some with AVX2 only (~160 fp32, bf16 emulated at ~1)."""
    if device.type == "cuda":
        where = torch.cuda.get_device_name(device)
    else:
        where = f"{cpu_model()} [{cpu_vector_isa()}] x{torch.get_num_threads()} threads"
    return f"{where} | {dtype} | torch {torch.__version__}"


def benchmark_matmul(device: torch.device, dtype: str, size: int | None = None, repeats: int = 8) -> float:
    """The best FLOP/s over ``repeats`` runs (after a warm-up) of two matmul shapes in ``dtype``: ``size`` cubed, and
    a tall ``4 size x size/2`` by ``size/2 x size/2`` (a transformer's tokens x hidden by hidden x hidden shape), which
    is faster on some CPUs' kernels."""
    n = size or (8192 if device.type == "cuda" else 2048)
    gen = torch.Generator(device=device).manual_seed(0)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    best_flops = 0.0
    for m, k, p in ((n, n, n), (4 * n, n // 2, n // 2)):
        a = torch.randn(m, k, device=device, dtype=DTYPES[dtype], generator=gen)
        b = torch.randn(k, p, device=device, dtype=DTYPES[dtype], generator=gen)
        a @ b
        sync()
        for _ in range(repeats):
            t0 = time.perf_counter()
            a @ b
            sync()
            best_flops = max(best_flops, 2.0 * m * k * p / (time.perf_counter() - t0))
    return best_flops


def peak_flops(device: torch.device, dtype: str, override: float | None = None) -> Peak:
    """The recipe's ``override``, else this machine's cached measurement, else a new one (about a second)."""
    key = machine_key(device, dtype)
    if override is not None:
        return Peak(override, "recipe", key)
    path = cache_path()
    cached = read_cache(path)
    if key in cached:
        return Peak(float(cached[key]), "cached", key)
    flops = benchmark_matmul(device, dtype)
    cached = read_cache(path)  # another process may have written meanwhile
    cached[key] = flops
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(cached, indent=2, sort_keys=True))
        tmp.replace(path)  # atomic: concurrent workers never read a half-written file
    except OSError:
        pass  # a read-only home: measure again next time
    return Peak(flops, "measured", key)


def read_cache(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
