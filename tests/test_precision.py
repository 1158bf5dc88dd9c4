import pytest
import torch

from dapt import precision
from dapt.precision import Precision, autocast, cpu_bf16_flags, resolve_precision


def test_cpu_flags_read_from_cpuinfo(tmp_path):
    with_bf16 = tmp_path / "a"
    with_bf16.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512_bf16 amx_tile\n")
    without = tmp_path / "b"
    without.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512bw\n")
    assert cpu_bf16_flags(with_bf16) == ("avx512_bf16",)
    assert cpu_bf16_flags(without) == ()
    assert cpu_bf16_flags(tmp_path / "missing") == ()


def test_auto_is_bf16_only_where_the_cpu_has_it(monkeypatch):
    monkeypatch.setattr(precision, "cpu_bf16_flags", lambda: ("amx_bf16",))
    p = resolve_precision("auto", "cpu")
    assert p.bf16 and "amx_bf16" in p.why
    monkeypatch.setattr(precision, "cpu_bf16_flags", lambda: ())
    p = resolve_precision("auto", "cpu")
    assert p == Precision("fp32", p.why) and "no native bf16" in p.why
    # An explicit bf16 is refused on a CPU that would emulate it (a run there looks like a hang) ...
    with pytest.raises(ValueError, match=r"needs native bf16.*auto"):
        resolve_precision("bf16", "cpu")
    assert not resolve_precision("no", "cpu").bf16
    # ... and honoured where the CPU has it; `no` is fp32 everywhere.
    monkeypatch.setattr(precision, "cpu_bf16_flags", lambda: ("avx512_bf16",))
    assert resolve_precision("bf16", "cpu").bf16
    assert not resolve_precision("no", "cpu").bf16
    with pytest.raises(ValueError, match="auto, no or bf16"):
        resolve_precision("fp16", "cpu")


def test_autocast_runs_matmuls_in_bf16_and_is_a_no_op_in_fp32():
    a, b = torch.randn(4, 8), torch.randn(8, 3)
    with autocast(Precision("bf16", "test"), "cpu"):
        assert (a @ b).dtype == torch.bfloat16
    with autocast(Precision("fp32", "test"), "cpu"):
        assert (a @ b).dtype == torch.float32
