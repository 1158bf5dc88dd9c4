"""A stage is reused only when its inputs, its code and its outputs are all still there."""

import importlib
import shutil

import dapt.floors.stage
from dapt.run import Run
from dapt.run.provenance import source_hash
from tests.run.test_facade import LR0


def _counting_floors(monkeypatch):
    calls = []
    real = dapt.floors.stage.compute_floors

    def counted(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(dapt.floors.stage, "compute_floors", counted)
    return calls


def _open(tmp_path, data_root) -> Run:
    recipe = tmp_path / "lr0.yaml"
    recipe.write_text(LR0)
    return Run.open(recipe, data_dir=str(data_root), out=str(tmp_path / "run"))


def test_a_deleted_stage_output_is_rebuilt(tmp_path, data_root, monkeypatch):
    calls = _counting_floors(monkeypatch)
    run = _open(tmp_path, data_root)
    run.floors("chemprot")
    run.floors("chemprot")
    assert len(calls) == 1  # done and its output is there: reused
    (tmp_path / "run" / "floors" / "chemprot.json").unlink()
    assert run.floors("chemprot")["tfidf-lr"]["test"] > 0
    assert len(calls) == 2 and (tmp_path / "run" / "floors" / "chemprot.json").is_file()
    record = run.run_info()["stages"]["floors/chemprot"]
    assert record["git_commit"] and "dapt_version" in record  # provenance per stage


def test_a_changed_stage_source_reruns_the_stage(tmp_path, data_root, monkeypatch):
    calls = _counting_floors(monkeypatch)
    run = _open(tmp_path, data_root)
    run.floors("chemprot")
    before = run.stage_hash("floors/chemprot")
    monkeypatch.setattr(dapt.floors.stage, "source_hash", lambda *pkgs: "changed-code")
    assert run.stage_hash("floors/chemprot") != before
    run.floors("chemprot")
    assert len(calls) == 2


def test_source_hash_follows_the_files(tmp_path, monkeypatch):
    # The module, not the package's ``provenance`` function of the same name.
    prov = importlib.import_module("dapt.run.provenance")

    shutil.copytree(prov.DAPT_DIR / "floors", tmp_path / "floors")
    monkeypatch.setattr(prov, "DAPT_DIR", tmp_path)
    a = source_hash("floors")
    assert source_hash("floors") == a
    with (tmp_path / "floors" / "compute.py").open("a") as f:
        f.write("\n# a change\n")
    assert source_hash("floors") != a


def test_frozen_code_is_what_stage_records_name(tmp_path, monkeypatch):
    """A long run imports its code once: edits on disk afterwards must not be recorded as what built its stages."""
    prov = importlib.import_module("dapt.run.provenance")

    shutil.copytree(prov.DAPT_DIR, tmp_path / "dapt", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(prov, "DAPT_DIR", tmp_path / "dapt")
    monkeypatch.setattr(prov, "_FROZEN", {})
    monkeypatch.setattr(prov, "_git_commit", lambda: "commit-at-start")
    prov.freeze_code()
    before = source_hash("finetune", "tasks")
    with (tmp_path / "dapt" / "finetune" / "loop.py").open("a") as f:
        f.write("\n# edited while the run was going\n")
    (tmp_path / "dapt" / "finetune" / "new_module.py").write_text("x = 1\n")
    monkeypatch.setattr(prov, "_git_commit", lambda: "a-later-commit")
    assert source_hash("finetune", "tasks") == before
    assert prov.stage_provenance()["git_commit"] == "commit-at-start"
    # A fresh process (no freeze) sees the edit.
    monkeypatch.setattr(prov, "_FROZEN", {})
    assert source_hash("finetune", "tasks") != before
