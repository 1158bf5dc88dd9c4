import json

import torch

from dapt import measured_peak
from dapt.device import cpu_vector_isa
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


def test_cpus_with_one_model_name_but_different_vector_units_get_their_own_peak(tmp_path, monkeypatch):
    """This pool's CPUs all say "AMD EPYC"; an AVX2-only one must not reuse an AVX512_BF16 one's cached peak."""
    flags = {"avx2": "fpu avx avx2 fma", "avx512_bf16": "fpu avx avx2 avx512f avx512_bf16"}
    for isa, line in flags.items():
        (tmp_path / isa).write_text(f"model name\t: AMD EPYC\nflags\t\t: {line}\n")
        assert cpu_vector_isa(tmp_path / isa) == isa
    assert cpu_vector_isa(tmp_path / "missing") == "unknown"
    keys = set()
    for isa in flags:
        monkeypatch.setattr(measured_peak, "cpu_vector_isa", lambda isa=isa: isa)
        keys.add(measured_peak.machine_key(torch.device("cpu"), "fp32"))
    assert len(keys) == 2
