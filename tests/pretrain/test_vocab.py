"""Vocabulary extension: frequent fragmented domain words become single tokens, initialised from their pieces."""

import json

import torch

from dapt.pretrain.vocab import extend_vocabulary, find_domain_words

TEXTS = ["Hydroxychloroquine and azithromycin were given; hydroxychloroquine levels rose."] * 30 + [
    "The cat sat on the mat."
] * 30


def test_most_fragmented_frequent_words_are_found(splade_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(splade_dir)
    words = find_domain_words(TEXTS, tok, top_k=5, min_count=20)
    names = [w.word for w in words]
    assert names[0] == "hydroxychloroquine"  # 60 occurrences (normalised: lower-cased) x (pieces - 1)
    assert "azithromycin" in names and "cat" not in names and "the" not in names
    assert all(w.pieces > 1 and w.count >= 20 for w in words)
    assert [w.saved for w in words] == sorted((w.saved for w in words), reverse=True)


def test_new_tokens_start_from_the_mean_of_their_pieces(tiny_mlm_dir):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_mlm_dir)
    model = AutoModelForMaskedLM.from_pretrained(tiny_mlm_dir)
    pieces = tok("hydroxychloroquine", add_special_tokens=False)["input_ids"]
    old_rows = model.get_input_embeddings().weight[pieces].detach().clone()
    old_bias = model.cls.predictions.bias[pieces].detach().clone()
    n = len(tok)
    (new_id,) = extend_vocabulary(model, tok, ["hydroxychloroquine"])
    assert new_id == n and len(tok) == n + 1
    assert tok.tokenize("hydroxychloroquine levels") == ["hydroxychloroquine", "levels"]
    emb = model.get_input_embeddings().weight
    torch.testing.assert_close(emb[new_id], old_rows.mean(0))
    torch.testing.assert_close(model.cls.predictions.bias[new_id], old_bias.mean())
    assert model.get_output_embeddings().weight.shape[0] == n + 1  # tied decoder follows
    logits = model(**tok("hydroxychloroquine", return_tensors="pt")).logits
    assert logits.shape[-1] == n + 1


def test_dapt_job_trains_on_the_repacked_corpus(tmp_path, tiny_mlm_dir):
    from dapt.ingest.shards import load_blocks
    from dapt.run import Run

    root = tmp_path / "data"
    (root / "t").mkdir(parents=True)
    (root / "corpus.txt").write_text(
        "".join(
            f"Hydroxychloroquine binds receptor {i % 7}; azithromycin inhibits kinase {i % 13}.\n" for i in range(300)
        )
    )
    for split in ("train", "dev", "test"):
        rows = [{"text": f"{split} kinase {i} inhibits target.", "label": str(i % 2)} for i in range(12)]
        (root / "t" / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    recipe = tmp_path / "v.yaml"
    recipe.write_text(
        f"""
name: vocab
base_model: {tiny_mlm_dir}
seeds: [0]
variants: [baseline, dapt, dapt+tapt]
corpus:
  sources: [{{name: c, path: corpus.txt}}]
pretrain: {{max_tokens: 1024, block_size: 32, batch_size: 8, extend_vocab_words: 3, extend_vocab_min_count: 50}}
tasks:
  - {{name: toy, format: jsonl, train: t/train.jsonl, dev: t/dev.jsonl, test: t/test.jsonl}}
"""
    )
    run = Run.open(recipe, data_dir=str(root), out=str(tmp_path / "run"))
    run.ingest(progress=False)
    run.pretrain(progress=False)
    job = tmp_path / "run" / "pretrain" / "dapt"
    words = [w["word"] for w in json.loads((job / "extended" / "words.json").read_text())]
    assert "hydroxychloroquine" in words and len(words) == 3
    from transformers import AutoTokenizer

    base = len(AutoTokenizer.from_pretrained(tiny_mlm_dir))
    assert len(AutoTokenizer.from_pretrained(job / "model")) == base + 3
    ids, _ = load_blocks(job / "extended" / "corpus" / "dataset", "train")
    assert ids.max() >= base  # the training blocks use the new tokens
    summary = json.loads((job / "summary.json").read_text())
    # The budget in real tokens: the train stream's last block is padded (held-out is split by document now).
    assert summary["base_model"] == str(job / "extended" / "init") and 1024 - 32 < summary["tokens_seen"] <= 1024
    # Held-out documents neither pick the new words nor enter the re-packed training corpus.
    import gzip

    held = set(json.loads((tmp_path / "run" / "corpus" / "heldout_ids.json").read_text()))
    with gzip.open(job / "extended" / "train_documents.jsonl.gz", "rt") as f:
        repacked = {json.loads(x)["id"] for x in f}
    with gzip.open(job / "extended" / "corpus" / "documents.jsonl.gz", "rt") as f:
        packed = {json.loads(x)["id"] for x in f}
    # (the reader prefixes ids with their file, as it does for every source)
    assert held and repacked and packed == {f"train_documents.jsonl.gz:{i}" for i in repacked}
    assert not held & repacked
    # DAPT+TAPT starts from the extended model and reads its TAPT corpus with the extended tokenizer.
    plus = tmp_path / "run" / "pretrain" / "dapt+tapt" / "toy"
    plus_ids, _ = load_blocks(plus / "extended" / "corpus" / "dataset", "train")
    inhibits = AutoTokenizer.from_pretrained(job / "model").convert_tokens_to_ids("inhibits")
    assert inhibits >= base and (plus_ids == inhibits).any()
    assert json.loads((plus / "summary.json").read_text())["base_model"] == str(job / "model")


def test_added_words_never_match_inside_a_longer_word(splade_dir):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from dapt.pretrain.vocab import extend_vocabulary

    tok = AutoTokenizer.from_pretrained(splade_dir)
    model = AutoModelForMaskedLM.from_pretrained(splade_dir)
    (new_id,) = extend_vocabulary(model, tok, ["azithromycin"])
    assert new_id in tok("we gave azithromycin daily")["input_ids"]
    assert new_id not in tok("azithromycinresistant strains")["input_ids"]
