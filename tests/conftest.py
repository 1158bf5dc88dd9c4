"""Shared fixtures: the real data root, tiny seeded models built from a config, offline hub settings."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_EVALUATE_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The measured-peak cache (dapt.measured_peak) of this test session, not the user's.
os.environ.setdefault("DAPT_CACHE_DIR", tempfile.mkdtemp(prefix="dapt-test-cache-"))

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = Path(os.environ.get("DAPT_DATA_DIR", REPO.parent / "shared" / "data")).resolve()
    if not (root / "chemprot" / "train.txt").is_file():
        pytest.skip(f"real data not found under {root} (set DAPT_DATA_DIR)")
    return root


@pytest.fixture(scope="session")
def splade_dir() -> Path:
    from dapt.models import resolve_model

    return resolve_model("splade-tiny")


@pytest.fixture(scope="session")
def tiny_mlm_dir(tmp_path_factory, splade_dir) -> Path:
    """A 2-layer, 32-hidden BERT with an MLM head, random but seeded, with the real BERT WordPiece tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(splade_dir)
    cfg = BertConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    out = tmp_path_factory.mktemp("tiny_mlm")
    BertForMaskedLM(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return out
