"""The prompting stage inside a run: which jobs a transfer recipe implies, zero-shot predictions equal the argmax of
the hand-checked label log-likelihoods, demonstrations depend on the seed only (the same for every variant's
model), a stratified test subset, and a rerun is cached."""

import json

import pytest
import torch
import yaml

from dapt.prompting import encode, label_logprobs_recomputed
from dapt.prompting.stage import score_task
from dapt.recipe import RecipeError, load_recipe
from dapt.run import Run
from dapt.tasks import stratified_test_subset

TRAIN = [("the protein binds the receptor", "a"), ("the drug inhibits the enzyme", "b")] * 6
TEST = [(f"sample {i} the protein binds", "a") for i in range(14)] + [
    (f"case {i} drug inhibits", "b") for i in range(6)
]


def _llama(path, seed):
    from tokenizers import ByteLevelBPETokenizer
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator([t for t, _ in TRAIN + TEST] * 5 + ["Label: alpha beta"] * 5, vocab_size=300,
                            special_tokens=["<s>", "</s>"])  # fmt: skip
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<s>", eos_token="</s>")
    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=512, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )  # fmt: skip
    LlamaForCausalLM(cfg).save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def transfer_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prompting")
    root = tmp / "data"
    (root / "corp").mkdir(parents=True)
    (root / "corp" / "a.txt").write_text("the protein binds the receptor in cells\n" * 3)
    (root / "t").mkdir()
    for split, rows in (("train", TRAIN), ("dev", TRAIN[:4]), ("test", TEST)):
        (root / "t" / f"{split}.jsonl").write_text("".join(json.dumps({"text": x, "label": y}) + "\n" for x, y in rows))
    recipe = {
        "name": "transfer-test",
        "base_model": str(_llama(tmp / "base", 0)),
        "seeds": [0, 1],
        "variants": ["baseline"],
        "corpus": {"sources": [{"name": "c", "path": "corp"}]},
        "pretrain": {"objective": "clm", "max_tokens": 1000},
        "tasks": [
            {
                "name": "t", "format": "jsonl", "train": "t/train.jsonl", "dev": "t/dev.jsonl", "test": "t/test.jsonl",
                "prompt": {"template": "{text}\nLabel:", "verbalizers": {"a": " alpha", "b": " beta"}},
            }
        ],
        "transfer": {"modes": ["zero_shot", "few_shot_icl", "few_shot_ft", "full_ft"], "icl_shots_per_label": 2,
                     "ft_shots_per_label": 2, "ft_min_train_steps": 4, "max_test_examples": 10,
                     "few_shot_finetune": {"learning_rate": 1.0e-3}},
    }  # fmt: skip
    (root / "g").mkdir()
    rows = [f'"{1 + i % 2}","news item {i}","the {("protein" if i % 2 == 0 else "drug")} story"' for i in range(30)]
    (root / "g" / "test.csv").write_text("\n".join([*rows, '"9","bad label","x"']) + "\n")
    recipe["transfer"]["general_tasks"] = [
        {"name": "g", "path": "g/test.csv", "label_names": ["a", "b"], "text_columns": [1, 2],
         "prompt": {"template": "{text}\nLabel:", "verbalizers": {"a": " alpha", "b": " beta"}}, "max_examples": 20}
    ]  # fmt: skip
    path = tmp / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return Run.open(path, data_dir=str(root), out=str(tmp / "run")), tmp


def test_jobs_zero_shot_once_and_in_context_per_seed(transfer_run):
    run, _ = transfer_run
    assert run.prompting_jobs() == [
        ("t", "zero_shot", "baseline", 0),
        ("t", "few_shot_icl", "baseline", 0),
        ("t", "few_shot_icl", "baseline", 1),
        ("g", "zero_shot", "baseline", 0),  # the general task: zero-shot only
    ]


def test_zero_shot_predictions_are_the_argmax_of_label_loglikelihoods(transfer_run):
    run, tmp = transfer_run
    summary = run.prompting("t", "zero_shot", "baseline", 0)
    out = run.ctx.layout.prompting_dir("t", "zero_shot", "baseline", 0)
    rows = [json.loads(x) for x in (out / "predictions_test.jsonl").read_text().splitlines()]
    assert summary["test_examples"] == 10 and summary["test_examples_total"] == 20 and len(rows) == 10
    assert sorted(r["gold_label"] for r in rows) == ["a"] * 7 + ["b"] * 3  # the test mix, stratified

    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tmp / "base").eval()
    tok = AutoTokenizer.from_pretrained(tmp / "base")
    texts = {f"test.jsonl:{i + 1}": x for i, (x, _) in enumerate(TEST)}
    enc = encode(tok, "", [texts[r["id"]] + "\nLabel:" for r in rows], [" alpha", " beta"])
    expected = label_logprobs_recomputed(model, enc).argmax(-1).tolist()
    # Label ids follow the train split's label space: a and b are equally frequent there, so by name.
    assert [r["pred"] for r in rows] == expected

    # Cached: the same inputs do not score again.
    mtime = (out / "predictions_test.jsonl").stat().st_mtime_ns
    assert run.prompting("t", "zero_shot", "baseline", 0) == summary
    assert (out / "predictions_test.jsonl").stat().st_mtime_ns == mtime


def test_demonstrations_depend_on_the_seed_only(transfer_run):
    run, tmp = transfer_run
    s0 = run.prompting("t", "few_shot_icl", "baseline", 0)
    s1 = run.prompting("t", "few_shot_icl", "baseline", 1)
    assert len(s0["demonstrations"]) == 4 and s0["prefix_tokens"] > 0
    assert s0["demonstrations"] != s1["demonstrations"]
    other = score_task(run.ctx, "t", "few_shot_icl", 0, _llama(tmp / "other", 1), tmp / "other-out")
    assert other["demonstrations"] == s0["demonstrations"]  # another variant's model, the same examples
    labels = dict(((f"train.jsonl:{i + 1}", y) for i, (_, y) in enumerate(TRAIN)))
    assert sorted(labels[d] for d in s0["demonstrations"]) == ["a", "a", "b", "b"]


def test_stratified_subset_is_fixed_and_keeps_every_label():
    labels = ["x"] * 90 + ["y"] * 9 + ["z"]
    a = stratified_test_subset(labels, 20)
    assert a == stratified_test_subset(labels, 20) and len(a) in (19, 20, 21)
    assert {labels[i] for i in a} == {"x", "y", "z"}
    assert stratified_test_subset(labels, None) == list(range(100))


def test_transfer_needs_a_decoder_and_prompts(tmp_path):
    with pytest.raises(RecipeError, match="causal LM"):
        load_recipe("smoke", {"transfer": {"modes": ["zero_shot", "full_ft"]}})
    with pytest.raises(RecipeError, match="have no prompt"):
        load_recipe("smoke", {"pretrain.objective": "clm", "transfer": {"modes": ["zero_shot", "full_ft"]}})
    with pytest.raises(RecipeError, match="must include full_ft"):
        load_recipe("smoke", {"pretrain.objective": "clm", "transfer": {"modes": ["zero_shot"]}})


def test_general_task_zero_shot_reads_csv_labels_and_quarantines(transfer_run):
    run, _ = transfer_run
    s = run.prompting("g", "zero_shot", "baseline", 0)
    assert s["test_examples_total"] == 30 and s["quarantined"] == {"unknown_label": 1}
    assert s["test_examples"] == 20 and s["demonstrations"] == []
    rows = (run.ctx.layout.prompting_dir("g", "zero_shot", "baseline", 0) / "predictions_test.jsonl").read_text()
    golds = [json.loads(x)["gold_label"] for x in rows.splitlines()]
    assert golds.count("a") == 10 and golds.count("b") == 10
