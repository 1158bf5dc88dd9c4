"""dapt's AdamW: the fused kernel on CPU must make the same updates as torch's reference (unfused) implementation."""

import contextlib

import torch

from dapt import optim
from dapt.optim import adamw, decay_groups, linear_warmup_decay, unfused_adamw


def _train(fused: bool, steps: int = 20) -> tuple[torch.nn.Module, torch.optim.AdamW]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.LayerNorm(32), torch.nn.Linear(32, 4))
    data = torch.randn(steps, 8, 16, generator=torch.Generator().manual_seed(1))
    with contextlib.nullcontext() if fused else unfused_adamw():
        opt = adamw(decay_groups(model, 0.01), 1e-2, torch.device("cpu"), betas=(0.9, 0.98), eps=1e-6)
    for x in data:
        opt.zero_grad()
        model(x).square().mean().backward()
        opt.step()
    return model, opt


def test_fused_cpu_adamw_matches_the_reference_implementation():
    fused_model, fused_opt = _train(fused=True)
    ref_model, ref_opt = _train(fused=False)
    assert fused_opt.defaults["fused"] and not ref_opt.defaults["fused"]
    # Weight decay only on the weights that take it (biases and LayerNorm are not decayed), in both.
    assert [g["weight_decay"] for g in fused_opt.param_groups] == [0.01, 0.0]
    for (name, a), b in zip(fused_model.named_parameters(), ref_model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)
    # The parameters did move (20 steps at lr 1e-2), so agreement is not two untouched models.
    torch.manual_seed(0)
    init = torch.nn.Linear(16, 32).weight
    assert (fused_model[0].weight - init).abs().max() > 1e-2


def test_unfused_block_restores_the_fused_default():
    with unfused_adamw():
        assert optim.FUSED_DEVICES == ()
    assert "cpu" in optim.FUSED_DEVICES
    p = torch.zeros(2, requires_grad=True)
    assert adamw([{"params": [p]}], 1e-3, torch.device("cpu")).defaults["fused"]


def test_warmup_then_linear_decay_to_zero():
    f = linear_warmup_decay(total_steps=10, warmup_steps=2)
    assert [round(f(s), 3) for s in (0, 1, 2, 6, 10)] == [0.5, 1.0, 1.0, 0.5, 0.0]
