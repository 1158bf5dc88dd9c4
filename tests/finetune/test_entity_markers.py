"""Entity markers as added special tokens and entity-start pooling (relation classification)."""

import pytest
import torch

from dapt.finetune import run_finetune
from dapt.finetune.model import SequenceClassifier, load_encoder
from dapt.recipe import FinetuneConfig, TaskConfig

MARKERS = [["<<", ">>"], ["[[", "]]"]]
TASK = TaskConfig(
    name="chemprot",
    format="jsonl",
    train="chemprot/train.txt",
    dev="chemprot/dev.txt",
    test="chemprot/test.txt",
    max_examples=80,
    entity_markers=MARKERS,
    pooling="entity_start",
)


def test_markers_become_single_tokens(splade_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(splade_dir)
    text = "<< EGFR >> binds [[ gefitinib ]] ."
    before = tok.tokenize(text)
    assert before.count("<") == 2  # WordPiece splits "<<" into two pieces
    tok.add_tokens([m for p in MARKERS for m in p], special_tokens=True)
    after = tok.tokenize(text)
    assert after[0] == "<<" and "[[" in after and "]]" in after and "<" not in after
    assert "egfr" in "".join(after).replace("#", "")  # the text between markers is still lower-cased


def test_entity_start_pooling_reads_the_opening_markers(tiny_mlm_dir):
    torch.manual_seed(0)
    enc = load_encoder(tiny_mlm_dir, 0.0)
    model = SequenceClassifier(enc, 3, 0.0, entity_start_ids=[7, 9]).eval()
    ids = torch.tensor([[101, 5, 7, 6, 9, 102], [101, 9, 5, 5, 5, 102]])  # row 2 lacks marker 7 (cut off)
    attn = torch.ones_like(ids)
    with torch.no_grad():
        hidden = enc(input_ids=ids, attention_mask=attn).last_hidden_state
        expected = model.head(
            torch.stack([torch.cat([hidden[0, 2], hidden[0, 4]]), torch.cat([hidden[1, 0], hidden[1, 1]])])
        )
        assert torch.allclose(model(ids, attn), expected, atol=1e-6)
    assert model.head.in_features == 2 * enc.config.hidden_size


def test_finetune_with_marker_tokens_and_entity_start_pooling(tmp_path, tiny_mlm_dir, data_root):
    cfg = FinetuneConfig(learning_rate=1e-3, epochs=1, batch_size=16, max_length=96)
    s = run_finetune(TASK, tiny_mlm_dir, cfg, 0, data_root, tmp_path / "r", progress=False).summary
    assert s["pooling"] == "entity_start" and s["entity_markers_added"] == ["<<", ">>", "[[", "]]"]
    assert set(s["entity_marker_missing"]) == {"train", "dev", "test"}
    again = run_finetune(TASK, tiny_mlm_dir, cfg, 0, data_root, tmp_path / "r2", progress=False).summary
    assert again["history"] == s["history"]  # the new embedding rows are seed-determined
    # A short max_length cuts markers off: counted, not hidden.
    short = run_finetune(
        TASK, tiny_mlm_dir, cfg.model_copy(update={"max_length": 8}), 0, data_root, tmp_path / "s", progress=False
    ).summary
    assert short["entity_marker_missing"]["train"] > 0


def test_entity_start_needs_markers():
    with pytest.raises(ValueError, match="entity_markers"):
        TaskConfig(name="t", format="jsonl", train="a", dev="b", test="c", pooling="entity_start")
    with pytest.raises(ValueError, match="entity_markers"):
        TaskConfig(
            name="t", format="conll", train="a", dev="b", test="c", metric="span_f1", entity_markers=[["<", ">"]]
        )
