import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dapt.finetune.batching import (
    PAD_BUCKET_TOKENS,
    bucket_count,
    bucket_width,
    iterate,
    length_grouped_batches,
    pad_batch,
    sorted_batches,
)


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


@settings(max_examples=200, deadline=None)
@given(max_width=st.integers(1, 600), data=st.data())
def test_bucket_widths_are_few_and_fit(max_width, data):
    longest = data.draw(st.integers(1, max_width))
    w = bucket_width(longest, max_width)
    assert longest <= w <= max_width
    assert w % PAD_BUCKET_TOKENS == 0 or w == max_width
    widths = {bucket_width(n, max_width) for n in range(1, max_width + 1)}
    assert len(widths) == bucket_count(max_width)


def test_bucket_width_refuses_an_overlong_sequence():
    with pytest.raises(ValueError, match="longer than max_width=64"):
        bucket_width(65, 64)


def test_bucketed_batches_pad_to_a_bucket_and_predict_the_same(tiny_mlm_dir):
    """Bucket padding only adds masked positions: the classifier's logits are those of the unpadded batch."""
    from dapt.finetune.model import SequenceClassifier, load_encoder

    torch.manual_seed(0)
    model = SequenceClassifier(load_encoder(tiny_mlm_dir, 0.0), num_labels=3, dropout=0.0).eval()
    seqs = [[101, *range(1000, 1000 + n), 102] for n in (3, 17, 40)]
    batches = [[0, 1], [2]]
    plain = list(iterate(seqs, batches, pad_id=0))
    bucketed = list(iterate(seqs, batches, pad_id=0, bucket_max_width=64))
    assert [ids.shape[1] for _, ids, _, _ in plain] == [19, 42]
    assert [ids.shape[1] for _, ids, _, _ in bucketed] == [32, 64]
    with torch.no_grad():
        for (_, a_ids, a_attn, _), (_, b_ids, b_attn, _) in zip(plain, bucketed, strict=True):
            torch.testing.assert_close(model(a_ids, a_attn), model(b_ids, b_attn), atol=1e-5, rtol=1e-5)
