import pytest
import torch
from transformers import AutoModelForMaskedLM

from dapt.pretrain.masked_head import mlm_loss, supports_masked_head
from dapt.pretrain.masking import mask_tokens


@pytest.mark.parametrize("which", ["tiny", "splade"])
def test_masked_head_loss_matches_hugging_face(which, tiny_mlm_dir, splade_dir):
    model = AutoModelForMaskedLM.from_pretrained(tiny_mlm_dir if which == "tiny" else splade_dir).eval()
    assert supports_masked_head(model)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, 2000, (4, 24), generator=g)
    attn = torch.ones_like(ids)
    attn[1, 20:] = 0
    inputs, labels = mask_tokens(ids, attn.bool(), 103, 30522, 0.3, g)
    ours = mlm_loss(model, inputs, attn, labels)
    ref = model(input_ids=inputs, attention_mask=attn, labels=labels).loss
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-5)


def test_masked_head_gradients_match(tiny_mlm_dir):
    model = AutoModelForMaskedLM.from_pretrained(tiny_mlm_dir).eval()
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1000, 2000, (2, 16), generator=g)
    attn = torch.ones_like(ids)
    inputs, labels = mask_tokens(ids, attn.bool(), 103, 30522, 0.3, g)
    mlm_loss(model, inputs, attn, labels).backward()
    ours = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model(input_ids=inputs, attention_mask=attn, labels=labels).loss.backward()
    for a, p in zip(ours, model.parameters(), strict=True):
        torch.testing.assert_close(a, p.grad, rtol=1e-4, atol=1e-6)
