"""Stages run without Prefect on a run directory; a broken fine-tuning setting is flagged against the floor."""

import json

import pytest

from dapt.run import Run

LR0 = """
name: lr0
base_model: splade-tiny
seeds: [0]
variants: [baseline]
corpus:
  sources:
    - {name: c, path: biomed_unlabelled/pubmedqa/abstracts.txt, max_documents: 10}
pretrain: {max_tokens: 1000}
tasks:
  - {name: chemprot, format: jsonl, train: chemprot/train.txt, dev: chemprot/dev.txt, test: chemprot/test.txt,
     max_examples: 300}
finetune: {learning_rate: 0.0, epochs: 1, max_length: 64}
"""


def test_learning_rate_zero_is_flagged_below_floor(tmp_path, data_root):
    recipe = tmp_path / "lr0.yaml"
    recipe.write_text(LR0)
    run = Run.open(recipe, data_dir=str(data_root), out=str(tmp_path / "run"))
    assert run.pretrain() is None  # no dapt variant: nothing to pretrain
    run.floors("chemprot")
    run.finetune("chemprot", "baseline", 0, progress=False)
    run.evaluate()
    results = run.report()
    assert results["tasks"]["chemprot"]["baseline"]["below_floor"] is True
    assert results["flags"] and "bag-of-words floor" in results["flags"][0]["message"]
    assert "below tfidf-lr floor" in (tmp_path / "run" / "report.md").read_text()
    # A rerun skips completed stages (same recipe hash).
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["stages"]["finetune/chemprot/baseline/seed0"]["status"] == "done"


def test_stage_order_errors_are_clear(tmp_path, data_root):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(LR0.replace("variants: [baseline]", "variants: [baseline, dapt]"))
    run = Run.open(recipe, data_dir=str(data_root), out=str(tmp_path / "run"))
    with pytest.raises(FileNotFoundError, match="dapt ingest"):
        run.pretrain()
    with pytest.raises(FileNotFoundError, match="dapt pretrain"):
        run.finetune("chemprot", "dapt", 0)
    with pytest.raises(FileNotFoundError, match="dapt finetune"):
        run.evaluate()


def test_tagging_task_through_every_stage(tmp_path, tiny_mlm_dir):
    """A CoNLL task by configuration only: ingest, pretrain, floors, fine-tune, evaluate (span F1), report."""
    from tests.finetune.conll_fixture import write_conll

    root = tmp_path / "data"
    write_conll(root / "ner", sizes=(60, 20, 20))
    (root / "corpus.txt").write_text(
        "".join(f"Protein {i} binds receptor {i % 7} in the cell nucleus.\n" for i in range(300))
    )
    recipe = tmp_path / "ner.yaml"
    recipe.write_text(f"""
name: ner
base_model: {tiny_mlm_dir}
seeds: [0, 1]
variants: [baseline, dapt]
corpus:
  sources: [{{name: c, path: corpus.txt}}]
pretrain: {{max_tokens: 4096, block_size: 32, batch_size: 8}}
tasks:
  - {{name: ner, format: conll, train: ner/train.tsv, dev: ner/dev.tsv, test: ner/test.tsv, metric: span_f1,
     tag_column: 2}}
finetune: {{learning_rate: 1.0e-3, epochs: 1, batch_size: 16, max_length: 48}}
""")
    run = Run.open(recipe, data_dir=str(root), out=str(tmp_path / "run"))
    run.ingest(progress=False)
    run.pretrain(progress=False)
    floors = run.floors("ner")
    assert floors["majority"]["test"] == 0.0
    for _, variant, seed, _ in run.finetune_jobs():
        run.finetune("ner", variant, seed, progress=False)
    ev = run.evaluate()
    assert len(ev["test"]["ner"]["dapt"]["scores"]) == 2
    assert set(ev["comparisons"]["ner"]["dapt"]) >= {"diff", "ci95", "p_value"}
    results = run.report()
    assert results["tasks"]["ner"]["baseline"]["metric"] == "span_f1"
    assert results["tasks"]["ner"]["majority"]["mean"] == 0.0


def test_stage_hashes_follow_their_inputs(tmp_path, data_root):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(LR0.replace("variants: [baseline]", "variants: [baseline, dapt]"))
    a = Run.open(recipe, data_dir=str(data_root), out=str(tmp_path / "a"))
    recipe.write_text(
        LR0.replace("variants: [baseline]", "variants: [baseline, dapt]").replace(
            "pretrain: {max_tokens: 1000}", "pretrain: {max_tokens: 2000}"
        )
    )
    b = Run.open(recipe, data_dir=str(data_root), out=str(tmp_path / "b"))
    same = ["ingest", "floors/chemprot", "finetune/chemprot/baseline/0"]
    changed = ["pretrain/dapt", "finetune/chemprot/dapt/0"]
    assert all(a.stage_hash(k) == b.stage_hash(k) for k in same)
    assert all(a.stage_hash(k) != b.stage_hash(k) for k in changed)


ALL_VARIANTS = """
name: variants
base_model: {model}
seeds: [0]
variants: [baseline, dapt, dapt-replay, tapt, dapt+tapt, knn-tapt, general]
corpus:
  sources: [{{name: c, path: corpus.txt}}]
general_corpus:
  sources: [{{name: g, path: general.txt}}]
pretrain: {{max_tokens: 2048, block_size: 32, batch_size: 8, eval_every_steps: 4}}
tapt: {{epochs: 2, knn_per_example: 2, knn_embedding_model: {model}}}
tasks:
  - {{name: toy, format: jsonl, train: t/train.jsonl, dev: t/dev.jsonl, test: t/test.jsonl}}
finetune: {{learning_rate: 1.0e-3, epochs: 1, batch_size: 16, max_length: 32}}
"""


def test_every_variant_pretrains_from_the_right_start_on_the_right_text(tmp_path, tiny_mlm_dir):
    root = tmp_path / "data"
    (root / "t").mkdir(parents=True)
    (root / "corpus.txt").write_text(
        "".join(f"Protein {i} binds receptor {i % 7} in the cell nucleus of tissue {i % 13}.\n" for i in range(300))
    )
    (root / "general.txt").write_text(
        "".join(f"The team won match {i} of the season after {i % 5} goals in the city {i % 9}.\n" for i in range(200))
    )
    for split, n in (("train", 40), ("dev", 12), ("test", 12)):
        rows = [
            {
                "text": f"{split} kinase {i} {'inhibits' if i % 2 else 'activates'} target {i % 3}.",
                "label": "down" if i % 2 else "up",
            }
            for i in range(n)
        ]
        (root / "t" / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    recipe = tmp_path / "v.yaml"
    recipe.write_text(ALL_VARIANTS.format(model=tiny_mlm_dir))
    run = Run.open(recipe, data_dir=str(root), out=str(tmp_path / "run"))
    run.ingest(progress=False)
    jobs = [j.key for j in run.pretrain_jobs()]
    assert jobs == [
        "pretrain/dapt",
        "pretrain/dapt-replay",
        "pretrain/general",
        "pretrain/tapt/toy",
        "pretrain/dapt+tapt/toy",
        "pretrain/knn-tapt/toy",
    ]
    run.pretrain(progress=False)
    out = tmp_path / "run"
    sums = {j: json.loads((out / j / "summary.json").read_text()) for j in jobs}
    assert sums["pretrain/dapt+tapt/toy"]["base_model"] == str(out / "pretrain" / "dapt" / "model")
    assert sums["pretrain/tapt/toy"]["base_model"] == str(tiny_mlm_dir)
    # TAPT trains on the task's train text only: 2 epochs of its blocks; knn-tapt adds domain neighbours.
    tapt = json.loads((out / "tapt" / "toy" / "stats.json").read_text())
    knn = json.loads((out / "knn-tapt" / "toy" / "stats.json").read_text())
    assert tapt["sources"]["toy-train"]["kept"] == 40 and knn["sources"]["knn-domain"]["kept"] > 0
    # Held-out documents are never kNN candidates.
    held = set(json.loads((out / "corpus" / "heldout_ids.json").read_text()))
    picked = [json.loads(x)["id"] for x in (out / "knn-tapt" / "toy" / "knn_selected.jsonl").read_text().splitlines()]
    assert held and picked and not held & set(picked)
    assert sums["pretrain/tapt/toy"]["token_budget"] == 2 * tapt["blocks"]["train"] * 32
    # Budget-matched control: the general run sees DAPT's token budget.
    assert sums["pretrain/general"]["token_budget"] == sums["pretrain/dapt"]["token_budget"] == 2048
    # Every run measures the same domain held-out text, and general text (forgetting), along the way.
    assert len({s["heldout_ppl_before"] for k, s in sums.items() if "dapt+tapt" not in k}) == 1
    curve = [json.loads(x) for x in (out / "pretrain" / "dapt" / "metrics.jsonl").read_text().splitlines()]
    assert sum("general_ppl" in r for r in curve) >= 3
    assert "corpus manifest hash" in (out / "pretrain" / "dapt" / "model" / "README.md").read_text()

    # Replay: a quarter of each batch (2 of 8 blocks) from the general corpus; the plain DAPT run mixes nothing.
    assert sums["pretrain/dapt-replay"]["replay_blocks_per_batch"] == 2
    assert sums["pretrain/dapt"]["replay_blocks_per_batch"] == 0
    for v in ("baseline", "dapt", "dapt-replay", "tapt", "dapt+tapt", "knn-tapt", "general"):
        run.finetune("toy", v, 0, progress=False)
    run.evaluate()
    results = run.report()
    rows = results["tasks"]["toy"]
    assert {"dapt", "dapt-replay", "tapt", "dapt+tapt", "knn-tapt", "general"} <= {
        v for v in rows if "vs_baseline" in rows[v]
    }
    assert set(results["pretrain_jobs"]) == {j.removeprefix("pretrain/") for j in jobs}


def test_same_stage_started_twice_runs_once(tmp_path, data_root, monkeypatch):
    import threading
    import time

    import dapt.floors.stage

    calls = []
    real = dapt.floors.compute_floors

    def slow_counting(*a, **k):
        calls.append(1)
        time.sleep(1.0)
        return real(*a, **k)

    monkeypatch.setattr(dapt.floors.stage, "compute_floors", slow_counting)
    recipe = tmp_path / "lr0.yaml"
    recipe.write_text(LR0)
    runs = [Run.open(recipe, data_dir=str(data_root), out=str(tmp_path / "run")) for _ in range(2)]
    results = [None, None]

    def go(i):
        results[i] = runs[i].floors("chemprot")

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and results[0] == results[1] and results[0]["tfidf-lr"]["test"] > 0


def test_learning_curve_same_subsets_for_every_variant(tmp_path, data_root, tiny_mlm_dir):
    """Fractions of train fine-tune on the same examples for baseline and dapt; evaluate and report show the curve."""
    recipe = tmp_path / "lc.yaml"
    recipe.write_text(
        LR0.replace("base_model: splade-tiny", f"base_model: {tiny_mlm_dir}")
        .replace("variants: [baseline]", "variants: [baseline, dapt]")
        .replace("pretrain: {max_tokens: 1000}", "pretrain: {max_tokens: 512, batch_size: 4, block_size: 64}")
        .replace("learning_rate: 0.0, epochs: 1", "learning_rate: 1.0e-3, epochs: 1")
        + "learning_curve: {fractions: [0.1], min_train_steps: 5}\nfloors: false\n"
    )
    run = Run.open(recipe, data_dir=str(data_root), out=str(tmp_path / "run"))
    assert [j for j in run.finetune_jobs() if j[3] < 1] == [
        ("chemprot", "baseline", 0, 0.1),
        ("chemprot", "dapt", 0, 0.1),
    ]
    run.ingest(progress=False)
    run.pretrain(progress=False)
    for task, variant, seed, fraction in run.finetune_jobs():
        run.finetune(task, variant, seed, progress=False, fraction=fraction)
    out = tmp_path / "run" / "finetune" / "chemprot"
    sub = {v: json.loads((out / v / "frac0.1" / "seed0" / "summary.json").read_text()) for v in ("baseline", "dapt")}
    # 10% of 300, stratified (per-label rounding), and at least 5 optimizer steps: 30 examples, batch 32 -> 5 epochs.
    assert 25 <= sub["baseline"]["examples"]["train"] <= 35
    assert sub["baseline"]["examples"] == sub["dapt"]["examples"]
    assert sub["baseline"]["settings"]["epochs"] == 5 and len(sub["baseline"]["history"]) == 5
    full = json.loads((out / "baseline" / "seed0" / "summary.json").read_text())
    assert full["examples"]["train"] == 300 and full["settings"]["epochs"] == 1
    run.evaluate()
    results = run.report()
    point = results["learning_curve"]["chemprot"]["0.1"]
    assert set(point) == {"baseline", "dapt"}
    assert {"ci95", "p_vs_baseline", "diff_vs_baseline"} <= set(point["dapt"])
    assert "ci95" in results["tasks"]["chemprot"]["dapt"]
    report = (tmp_path / "run" / "report.md").read_text()
    assert "## Learning curves" in report and "curve-chemprot.png" in report
    assert (tmp_path / "run" / "figures" / "curve-chemprot.png").stat().st_size > 0


def test_a_closed_run_stops_receiving_log_lines(tmp_path, data_root):
    import logging

    recipe = tmp_path / "lr0.yaml"
    recipe.write_text(LR0)
    log = logging.getLogger("dapt.test")
    with Run.open(recipe, data_dir=str(data_root), out=str(tmp_path / "a")) as first:
        log.info("while a is open")
    with Run.open(recipe, data_dir=str(data_root), out=str(tmp_path / "b")) as second:
        log.info("while b is open")
    log.info("after both")
    a, b = first.log_file.read_text(), second.log_file.read_text()
    assert "while a is open" in a and "while b is open" not in a and "after both" not in a
    assert "while b is open" in b and "while a is open" not in b and "after both" not in b
