"""Each strategy trains exactly what it claims (trainable-parameter counts), discriminative learning rates land in
the optimizer groups, gradual unfreezing opens one block per epoch from the top, auto picks by train-set size."""

import pytest
import torch

from dapt.finetune.model import SequenceClassifier, load_encoder
from dapt.finetune.strategies import apply_strategy, encoder_blocks, resolve_strategy
from dapt.recipe import FinetuneConfig


def n(module) -> int:
    return sum(p.numel() for p in module.parameters())


def trainable(module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@pytest.fixture
def model(tiny_mlm_dir):
    torch.manual_seed(0)
    return SequenceClassifier(load_encoder(tiny_mlm_dir, None), 3, 0.1)


def test_full_frozen_partial(model):
    a = apply_strategy(model, FinetuneConfig(strategy="full"), 10_000)
    assert a.trainable_params == a.total_params == n(model)
    a = apply_strategy(model, FinetuneConfig(strategy="frozen"), 10)
    assert trainable(model) == a.trainable_params == n(model.head)
    assert sum(p.numel() for g in a.param_groups for p in g["params"]) == n(model.head)
    a = apply_strategy(model, FinetuneConfig(strategy="partial", partial_layers=1), 10)
    top = encoder_blocks(model.encoder)[-1]
    assert trainable(model) == n(model.head) + n(top)
    assert all(p.requires_grad for p in top.parameters())
    assert not any(p.requires_grad for p in encoder_blocks(model.encoder)[0].parameters())


def test_lora_trains_adapters_and_head_only(model):
    cfg = FinetuneConfig(strategy="lora", lora_r=4, lora_targets=["query", "value"])
    base = n(model)
    a = apply_strategy(model, cfg, 10)
    hidden, layers = model.encoder.config.hidden_size, model.encoder.config.num_hidden_layers
    adapters = layers * 2 * cfg.lora_r * (hidden + hidden)  # A: r x in, B: out x r, on query and value
    assert a.trainable_params == n(model.head) + adapters
    assert a.total_params == base + adapters
    assert all("lora_" in name or name.startswith("head.") for name, p in model.named_parameters() if p.requires_grad)
    # It still trains: a step moves the adapters, not the frozen base weights.
    frozen_w = model.encoder.encoder.layer[0].attention.self.query.base_layer.weight.clone()
    opt = torch.optim.AdamW(a.param_groups, lr=1e-2)
    ids = torch.randint(1000, 2000, (4, 12))
    model(ids, torch.ones_like(ids)).sum().backward()
    opt.step()
    assert torch.equal(frozen_w, model.encoder.encoder.layer[0].attention.self.query.base_layer.weight)


def test_gradual_unfreezing_opens_one_block_per_epoch(model):
    a = apply_strategy(model, FinetuneConfig(strategy="gradual"), 10)
    blocks = encoder_blocks(model.encoder)
    a.on_epoch_start(1)
    assert trainable(model) == n(model.head)
    a.on_epoch_start(2)
    assert trainable(model) == n(model.head) + n(blocks[-1])
    a.on_epoch_start(3)
    assert trainable(model) == n(model.head) + n(blocks[-1]) + n(blocks[-2])
    a.on_epoch_start(4)
    assert trainable(model) == n(model.head) + n(blocks[-1]) + n(blocks[-2]) + n(model.encoder.embeddings)
    # Every parameter is in the optimizer from the start, so unfreezing needs no new optimizer.
    assert sum(p.numel() for g in a.param_groups for p in g["params"]) == n(model)


def test_discriminative_learning_rates_land_in_the_groups(model):
    cfg = FinetuneConfig(strategy="discriminative", learning_rate=1e-3, layer_lr_decay=0.5)
    a = apply_strategy(model, cfg, 10_000)
    opt = torch.optim.AdamW(a.param_groups, lr=cfg.learning_rate)
    lr_of = {id(p): g["lr"] for g in opt.param_groups for p in g["params"]}
    blocks = encoder_blocks(model.encoder)
    assert {lr_of[id(p)] for p in model.head.parameters()} == {1e-3}
    assert {lr_of[id(p)] for p in blocks[-1].parameters()} == {1e-3}
    assert {lr_of[id(p)] for p in blocks[0].parameters()} == {5e-4}
    assert {lr_of[id(p)] for p in model.encoder.embeddings.parameters()} == {2.5e-4}
    assert len(lr_of) == len(list(model.parameters()))  # every parameter exactly once


@pytest.mark.parametrize(
    ("n_train", "picked"), [(120, "frozen"), (499, "frozen"), (500, "partial"), (4_169, "partial"), (6_979, "full")]
)
def test_auto_picks_by_train_size_and_says_why(n_train, picked):
    strategy, why = resolve_strategy(FinetuneConfig(strategy="auto"), n_train)
    assert strategy == picked and f"{n_train:,}" in why and why.startswith("auto")


def test_finetune_with_lora_end_to_end(tmp_path, tiny_mlm_dir):
    import json

    from dapt.finetune import run_finetune
    from dapt.recipe import TaskConfig

    root = tmp_path / "data"
    (root / "t").mkdir(parents=True)
    for split, k in (("train", 48), ("dev", 16), ("test", 16)):
        rows = [
            {"text": f"kinase {i} {'inhibits' if i % 2 else 'activates'} target", "label": str(i % 2)} for i in range(k)
        ]
        (root / "t" / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    task = TaskConfig(name="toy", format="jsonl", train="t/train.jsonl", dev="t/dev.jsonl", test="t/test.jsonl")
    cfg = FinetuneConfig(strategy="lora", epochs=2, batch_size=8, learning_rate=5e-3, max_length=16)
    res = run_finetune(task, tiny_mlm_dir, cfg, 0, root, tmp_path / "out", progress=False)
    s = res.summary["strategy"]
    assert s["name"] == "lora" and 0 < s["trainable_params"] < s["total_params"] / 5
    assert (tmp_path / "out" / "predictions_test.jsonl").is_file()
