"""The GPU benchmark script (tests/benchmarks/gpu_bench.py) runs its cases on CPU at toy size, so it cannot reach
the GPU machine broken; the DeepSpeed case runs under the ``distributed`` marker (first start JIT-compiles)."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "benchmarks" / "gpu_bench.py"


def _module():
    spec = importlib.util.spec_from_file_location("gpu_bench", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("kind", ["mlm", "clm"])
def test_cases_run_tiny_on_cpu(tmp_path, kind):
    row = _module().run_case(f"t-{kind}", kind, 32, 4, 3, None, True, None, tmp_path)
    assert row["steps"] == 3 and row["tokens_per_s"] > 0 and 0 < row["mfu"] < 1 and row["engine"] == "torch"
    assert row["peak_flops_source"] in {"measured", "cached"} and row["precision"] in {"bf16", "fp32"}
    assert row["attention"] == "sdpa" and row["mfu_vs_datasheet"] is None  # not an H100/H200


@pytest.mark.distributed
def test_whole_script_tiny(tmp_path):
    result = _module().main(["--out", str(tmp_path), "--tiny"])
    assert [r["engine"] for r in result["rows"]] == ["torch", "deepspeed zero-2", "torch"]
    assert (tmp_path / "gpu_bench.json").is_file()
