import json

import torch

from dapt import measured_peak
from dapt.measured_peak import benchmark_matmul, peak_flops


def test_the_peak_is_measured_once_per_machine_and_dtype(tmp_path, monkeypatch):
    monkeypatch.setenv("DAPT_CACHE_DIR", str(tmp_path))
    calls = []

    def fake_bench(device, dtype):
        calls.append(dtype)
        return {"fp32": 1.5e11, "bf16": 6.0e11}[dtype]

    monkeypatch.setattr(measured_peak, "benchmark_matmul", fake_bench)
    cpu = torch.device("cpu")
    first = peak_flops(cpu, "bf16")
    assert (first.flops, first.source) == (6.0e11, "measured")
    again = peak_flops(cpu, "bf16")
    assert (again.flops, again.source) == (6.0e11, "cached")
    assert peak_flops(cpu, "fp32").flops == 1.5e11
    assert calls == ["bf16", "fp32"]
    cached = json.loads((tmp_path / "peak_flops.json").read_text())
    assert set(cached) == {first.key, peak_flops(cpu, "fp32").key} and "bf16" in first.key
    # The recipe's figure overrides without measuring.
    assert peak_flops(cpu, "bf16", override=2e12).source == "recipe" and calls == ["bf16", "fp32"]


def test_a_corrupt_cache_is_measured_again(tmp_path, monkeypatch):
    monkeypatch.setenv("DAPT_CACHE_DIR", str(tmp_path))
    (tmp_path / "peak_flops.json").write_text("{not json")
    monkeypatch.setattr(measured_peak, "benchmark_matmul", lambda device, dtype: 1e11)
    assert peak_flops(torch.device("cpu"), "fp32").source == "measured"


def test_benchmark_is_a_real_matmul_rate():
    flops = benchmark_matmul(torch.device("cpu"), "fp32", size=128, repeats=2)
    # Positive and below any CPU's peak by orders of magnitude (2 x 128^3 FLOPs can't take under a nanosecond).
    assert 1e6 < flops < 1e14
