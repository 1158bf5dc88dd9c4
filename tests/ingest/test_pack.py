import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dapt.ingest.pack import PackCounts, SpecialIds, pack_blocks, unpack_stream

SPECIAL = SpecialIds(cls=101, sep=102, pad=0)
docs_strategy = st.lists(st.lists(st.integers(min_value=1000, max_value=2000), min_size=0, max_size=40), max_size=30)


@settings(max_examples=200, deadline=None)
@given(docs=docs_strategy, block_size=st.integers(min_value=3, max_value=37))
def test_no_token_lost_or_duplicated(docs, block_size):
    counts = PackCounts()
    blocks = list(pack_blocks(docs, block_size, SPECIAL, counts))
    expected = [t for d in docs for t in [*d, SPECIAL.sep]]
    assert unpack_stream(blocks) == expected
    assert all(b.shape == (block_size,) for b, _ in blocks)
    assert all(b[0] == SPECIAL.cls and b[n - 1] == SPECIAL.sep for b, n in blocks)
    # Only the final block may be padded.
    assert all(n == block_size for _, n in blocks[:-1])
    assert counts.content_tokens == sum(len(d) for d in docs)
    assert counts.padding_tokens == sum(block_size - n for _, n in blocks)
    assert counts.blocks == len(blocks)


def test_padding_fraction_and_exact_fill():
    counts = PackCounts()
    blocks = list(pack_blocks([[5] * 7], 10, SPECIAL, counts))  # 7 + sep = 8 = width exactly
    assert len(blocks) == 1 and counts.padding_tokens == 0
    counts = PackCounts()
    blocks = list(pack_blocks([[5] * 3], 10, SPECIAL, counts))
    assert counts.padding_tokens == 10 - 6 and np.all(blocks[0][0][6:] == SPECIAL.pad)
    assert abs(counts.padding_fraction - 0.4) < 1e-9


def run_mlm_stream(texts, tok, block_size):
    """The transformers examples' run_mlm.py way: datasets.map tokenization (with special tokens), group_texts."""
    import datasets

    ds = datasets.Dataset.from_dict({"text": texts})
    ds = ds.map(lambda b: tok(b["text"], return_special_tokens_mask=True), batched=True, remove_columns=["text"])
    concat = [t for ids in ds["input_ids"] for t in ids]
    total = (len(concat) // block_size) * block_size
    return concat, [concat[i : i + block_size] for i in range(0, total, block_size)]


def test_parity_with_run_mlm_group_texts_on_real_text(data_root, splade_dir):
    from transformers import AutoTokenizer

    from dapt.ingest.cleaning import token_ids

    tok = AutoTokenizer.from_pretrained(splade_dir)
    path = data_root / "biomed_unlabelled" / "MTL-Bioinformatics-2016" / "BC5CDR-IOB" / "train.tokens.txt"
    texts = [x for x in path.read_text().splitlines() if x.strip()][:1500]
    concat, grouped = run_mlm_stream(texts, tok, 128)

    counts = PackCounts()
    ours = list(pack_blocks(token_ids(tok, texts), 128, SpecialIds.from_tokenizer(tok), counts))
    # run_mlm frames every line as [CLS] x [SEP]; dropping its [CLS] tokens gives exactly our document stream.
    assert unpack_stream(ours) == [t for t in concat if t != tok.cls_token_id]
    assert counts.content_tokens == sum(t not in (tok.cls_token_id, tok.sep_token_id) for t in concat)
    # group_texts drops the remainder; we pad the one last block instead, so no token is lost.
    assert len(grouped) * 128 <= len(concat) < (len(grouped) + 1) * 128
    assert counts.padding_tokens < 128
