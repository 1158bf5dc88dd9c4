"""Label scoring for a decoder: the cached-prefix scores equal a hand computation and a full recomputation on a tiny
seeded Llama; demonstrations depend on the seed alone and are label-balanced."""

from dataclasses import dataclass

import pytest
import torch

from dapt.prompting import (
    choose_demonstrations,
    demonstration_prefix,
    encode,
    label_logprobs,
    label_logprobs_recomputed,
)

TEXTS = [
    "the protein binds the receptor",
    "the drug inhibits the enzyme",
    "aspirin activates nothing at all",
    "patients were randomised to two arms",
]


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory):
    from tokenizers import ByteLevelBPETokenizer
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(TEXTS * 20 + ["Relation: activator inhibitor none"] * 20, vocab_size=300,
                            special_tokens=["<s>", "</s>"])  # fmt: skip
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<s>", eos_token="</s>")
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=512, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )  # fmt: skip
    return LlamaForCausalLM(cfg).eval(), tok


VERBALIZERS = [" activator", " inhibitor", " no relation at all"]


def test_cached_prefix_scores_equal_a_full_recomputation(tiny_llama):
    model, tok = tiny_llama
    prefix = (
        "the protein binds the receptor\nRelation: activator\n\nthe drug inhibits the enzyme\nRelation: inhibitor\n\n"
    )
    prompts = [f"{t}\nRelation:" for t in TEXTS]
    enc = encode(tok, prefix, prompts, VERBALIZERS)
    assert len({len(v) for v in enc.verbalizers}) > 1  # verbalizers of different lengths share one row
    for per_token in (False, True):
        cached = label_logprobs(model, enc, per_token=per_token)
        full = label_logprobs_recomputed(model, enc, per_token=per_token)
        assert cached.shape == (4, 3)
        assert torch.allclose(cached, full, atol=1e-4), (cached, full)


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_one_forward_per_example_matches_recomputation_with_either_attention_kernel(tiny_llama, attention):
    """The labels share one row under a block mask: booleans for SDPA, additive floats for eager attention; an empty
    prompt reads the prefix's last position for every label's first token; labels of one token and of several."""
    model, tok = tiny_llama
    model.set_attn_implementation(attention)
    try:
        prefix = "the drug inhibits the enzyme\nRelation: inhibitor\n\n"
        verbalizers = [" activator", " no relation at all", " the", " inhibitor"]
        enc = encode(tok, prefix, ["", "the protein binds the receptor\nRelation:", "x"], verbalizers)
        assert any(not p for p in enc.prompts) and min(len(v) for v in enc.verbalizers) == 1
        cached = label_logprobs(model, enc)
        assert torch.allclose(cached, label_logprobs_recomputed(model, enc), atol=1e-4), cached
    finally:
        model.set_attn_implementation("sdpa")


def test_zero_shot_equals_a_hand_computation(tiny_llama):
    model, tok = tiny_llama
    enc = encode(tok, "", ["aspirin activates nothing at all\nRelation:"], VERBALIZERS)
    got = label_logprobs(model, enc)[0]
    context = [tok.bos_token_id] + tok("aspirin activates nothing at all\nRelation:", add_special_tokens=False)[
        "input_ids"
    ]
    for j, verbal in enumerate(VERBALIZERS):
        ids = tok(verbal, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            logits = model(torch.tensor([context + ids])).logits[0]
        # log p(v_1 | context) + log p(v_2 | context, v_1) + ...: logits at position p predict token p + 1.
        want = 0.0
        for t, token in enumerate(ids):
            row = logits[len(context) - 1 + t]
            want += (row[token] - torch.logsumexp(row, dim=0)).item()
        assert got[j].item() == pytest.approx(want, abs=1e-4)


def test_an_empty_verbalizer_is_refused(tiny_llama):
    _, tok = tiny_llama
    with pytest.raises(ValueError, match="encode to no tokens"):
        encode(tok, "", ["x"], [" activator", ""])


@dataclass
class Ex:
    example_id: str
    text: str
    label: str


def test_demonstrations_depend_on_the_seed_alone_and_are_label_balanced():
    train = [Ex(f"e{i}", f"text {i}", "abc"[i % 3] if i < 60 else "a") for i in range(90)]
    a = choose_demonstrations(train, ["a", "b", "c"], 2, seed=1)
    again = choose_demonstrations(list(train), ["a", "b", "c"], 2, seed=1)
    assert [d.example_id for d in a] == [d.example_id for d in again]  # any variant of seed 1 gets these
    assert sorted(d.label for d in a) == ["a", "a", "b", "b", "c", "c"]  # balanced, though "a" is most of train
    other = choose_demonstrations(train, ["a", "b", "c"], 2, seed=2)
    assert [d.example_id for d in other] != [d.example_id for d in a]
    # A label with fewer examples than asked contributes all it has.
    few = choose_demonstrations(train[:4], ["a", "b", "c"], 3, seed=0)
    assert sorted(d.label for d in few) == ["a", "a", "b", "c"]
    prefix = demonstration_prefix(a[:1], "{text}\nLabel:", {"a": " A", "b": " B", "c": " C"})
    assert prefix == f"{a[0].text}\nLabel: {a[0].label.upper()}\n\n"
