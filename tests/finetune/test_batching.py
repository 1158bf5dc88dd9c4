import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dapt.finetune.batching import length_grouped_batches, pad_batch, sorted_batches


@settings(max_examples=50, deadline=None)
@given(lengths=st.lists(st.integers(1, 200), min_size=1, max_size=500), bs=st.integers(1, 40))
def test_every_example_once(lengths, bs):
    batches = length_grouped_batches(lengths, bs, torch.Generator().manual_seed(0))
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(len(lengths)))
    assert all(1 <= len(b) <= bs for b in batches)
    assert sorted(i for b in sorted_batches(lengths, bs) for i in b) == list(range(len(lengths)))


def test_same_seed_same_order():
    lengths = list(range(1, 300))
    a = length_grouped_batches(lengths, 8, torch.Generator().manual_seed(4))
    b = length_grouped_batches(lengths, 8, torch.Generator().manual_seed(4))
    c = length_grouped_batches(lengths, 8, torch.Generator().manual_seed(5))
    assert a == b and a != c


def test_pad_batch():
    ids, attn, types = pad_batch([[1, 2, 3], [4]], pad_id=0)
    assert ids.tolist() == [[1, 2, 3], [4, 0, 0]] and attn.tolist() == [[1, 1, 1], [1, 0, 0]] and types is None
    _, _, types = pad_batch([[1, 2, 3], [4]], pad_id=0, type_seqs=[[0, 0, 1], [0]])
    assert types.tolist() == [[0, 0, 1], [0, 0, 0]]
