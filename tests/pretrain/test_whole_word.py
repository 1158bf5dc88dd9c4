"""Whole-word masking for a WordPiece (BERT) and a byte-level BPE tokenizer: a word is masked whole or not at all."""

import pytest
import torch

from dapt.pretrain.masking import IGNORE_INDEX, mask_tokens
from dapt.pretrain.whole_word import WordBoundaries

TEXT = (
    "Hydroxychloroquine and azithromycin were co-administered; immunohistochemistry showed "
    "pseudohypoparathyroidism in 12 patients, unbelievably."
)


@pytest.fixture(scope="module")
def bpe_tokenizer():
    """A byte-level BPE tokenizer (GPT-2 style: 'Ġ' marks a word start), trained here with `tokenizers`."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    trainer = ByteLevelBPETokenizer()
    corpus = ["the patients were treated with drugs and the drugs were given daily"] * 50
    trainer.train_from_iterator(corpus, vocab_size=300, min_frequency=1, special_tokens=["<s>", "</s>", "<mask>"])
    return PreTrainedTokenizerFast(tokenizer_object=trainer._tokenizer, mask_token="<mask>", eos_token="</s>")


def _words(tokenizer, text):
    """Reference grouping from the text itself: words are runs of word characters, each other non-space character
    is a unit of its own; a piece belongs to the unit of its first non-space character (a bare space-marker piece
    to the next one). Consecutive pieces of one unit form a word."""
    import re

    unit = [-1] * len(text)
    for k, m in enumerate(re.finditer(r"\w+|[^\w\s]", text)):
        unit[m.start() : m.end()] = [k] * (m.end() - m.start())
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    owners = []
    for a, b in enc["offset_mapping"]:
        chars = [unit[c] for c in range(a, b) if unit[c] >= 0]
        owners.append(chars[0] if chars else None)
    for i in range(len(owners) - 2, -1, -1):  # a bare space piece joins the word after it
        if owners[i] is None:
            owners[i] = owners[i + 1]
    groups = []
    for i, o in enumerate(owners):
        if groups and owners[groups[-1][-1]] == o:
            groups[-1].append(i)
        else:
            groups.append([i])
    return enc["input_ids"], groups


@pytest.mark.parametrize("kind", ["wordpiece", "bpe"])
def test_words_are_masked_whole(kind, splade_dir, bpe_tokenizer):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(splade_dir) if kind == "wordpiece" else bpe_tokenizer
    wb = WordBoundaries.from_tokenizer(tok)
    assert wb.scheme == kind
    ids, groups = _words(tok, TEXT)
    assert any(len(g) > 1 for g in groups)  # the text really has multi-piece words
    ids_t = torch.tensor([ids])
    maskable = torch.ones_like(ids_t, dtype=torch.bool)
    starts = wb.word_starts(ids_t, maskable)[0].tolist()
    assert [i for i, s in enumerate(starts) if s] == [g[0] for g in groups]  # same words as the offsets say
    batch = ids_t.repeat(400, 1)
    mask_id = tok.mask_token_id
    _, labels = mask_tokens(
        batch,
        maskable.repeat(400, 1),
        mask_id,
        len(tok),
        0.15,
        torch.Generator().manual_seed(0),
        wb.word_starts(batch, maskable.repeat(400, 1)),
    )
    sel = labels != IGNORE_INDEX
    for g in groups:  # every word: all of its pieces selected, or none
        part = sel[:, g]
        assert (part.all(dim=1) | ~part.any(dim=1)).all()
    word_rate = sel[:, [g[0] for g in groups]].float().mean()
    assert 0.12 < word_rate < 0.18


def test_special_tokens_and_padding_never_join_words(splade_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(splade_dir)
    wb = WordBoundaries.from_tokenizer(tok)
    ids = torch.tensor([tok("hydroxychloroquine")["input_ids"] + [0, 0]])
    maskable = torch.ones_like(ids, dtype=torch.bool)
    maskable[0, 0] = maskable[0, -3:] = False  # [CLS], [SEP], padding
    starts = wb.word_starts(ids, maskable)
    assert starts[0].tolist().count(True) == 1 and starts[0, 1]
