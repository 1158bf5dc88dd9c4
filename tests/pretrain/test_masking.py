import torch

from dapt.pretrain.masking import IGNORE_INDEX, mask_tokens


def test_mask_rate_and_split_and_specials():
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, 30000, (64, 128), generator=g)
    maskable = torch.ones_like(ids, dtype=torch.bool)
    maskable[:, 0] = False  # [CLS]
    maskable[:, -10:] = False  # padding
    inputs, labels = mask_tokens(ids, maskable, 103, 30522, 0.15, g)
    selected = labels != IGNORE_INDEX
    assert not selected[~maskable].any()
    assert (inputs[~maskable] == ids[~maskable]).all()
    rate = selected.sum() / maskable.sum()
    assert 0.13 < rate < 0.17
    assert (labels[selected] == ids[selected]).all()
    masked = (inputs == 103) & selected
    unchanged = (inputs == ids) & selected
    assert 0.77 < masked.sum() / selected.sum() < 0.83
    assert 0.07 < unchanged.sum() / selected.sum() < 0.13


def test_same_seed_same_masks():
    ids = torch.randint(1000, 2000, (4, 32), generator=torch.Generator().manual_seed(5))
    m = torch.ones_like(ids, dtype=torch.bool)
    a = mask_tokens(ids, m, 103, 30522, 0.15, torch.Generator().manual_seed(9))
    b = mask_tokens(ids, m, 103, 30522, 0.15, torch.Generator().manual_seed(9))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
