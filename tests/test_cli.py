import subprocess
import sys

from dapt.cli import main


def test_recipes_lists_shipped(capsys):
    assert main(["recipes"]) == 0
    out = capsys.readouterr().out
    assert "dapt-biomed-tiny" in out and "smoke" in out


def test_bad_recipe_fails_before_work_with_key_and_file(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nbase_model: splade-tiny\nseedz: [0]\n")
    assert main(["ingest", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "seedz" in err
    assert not (tmp_path / "o").exists()


def test_missing_data_dir(tmp_path, capsys):
    assert main(["ingest", "smoke", "--data-dir", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "data root not found" in capsys.readouterr().err


def test_help_everywhere():
    for cmd in ([], ["run"], ["ingest"], ["finetune"], ["sweep"]):
        r = subprocess.run([sys.executable, "-m", "dapt.cli", *cmd, "--help"], capture_output=True, text=True)
        assert r.returncode == 0 and "usage: dapt" in r.stdout


def test_a_task_file_without_usable_examples_is_one_line_and_exit_2(tmp_path, capsys):
    root = tmp_path / "data"
    (root / "t").mkdir(parents=True)
    for split in ("train", "dev", "test"):
        (root / "t" / f"{split}.jsonl").write_text('not json\n{"text": ""}\n')
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        "name: r\nbase_model: splade-tiny\nseeds: [0]\nvariants: [baseline]\n"
        "corpus: {sources: [{name: c, path: t/train.jsonl, format: jsonl}]}\npretrain: {max_tokens: 1000}\n"
        "tasks: [{name: t, format: jsonl, train: t/train.jsonl, dev: t/dev.jsonl, test: t/test.jsonl}]\n"
    )
    assert main(["floors", str(recipe), "--data-dir", str(root), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("dapt: error: task t: no usable examples in") and "train.jsonl" in err[0]
    assert "invalid_json" in err[0] and "Traceback" not in err[0]


def test_dapt_run_refuses_a_path_outside_the_data_root_before_prefect_starts(tmp_path, data_root):
    r = subprocess.run(
        [sys.executable, "-m", "dapt.cli", "run", "smoke", "--data-dir", str(data_root), "--out", str(tmp_path / "o"),
         "--set", "tasks.chemprot.train=/etc/passwd"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2
    assert "tasks[0].train: '/etc/passwd' is an absolute path" in r.stderr and "smoke.yaml" in r.stderr
    assert "Traceback" not in r.stderr and "Starting temporary server" not in r.stderr + r.stdout
    assert not (tmp_path / "o").exists()


def test_the_default_data_root_is_beside_the_checkout(monkeypatch):
    from pathlib import Path

    from dapt.recipe import resolve_data_dir

    monkeypatch.delenv("DAPT_DATA_DIR", raising=False)
    checkout = Path(__file__).resolve().parents[1]
    if not (checkout.parent / "shared" / "data").is_dir():
        import pytest

        pytest.skip("no ../shared/data beside this checkout")
    assert resolve_data_dir(None) == (checkout.parent / "shared" / "data").resolve()


def test_a_sweep_gets_its_own_folder_and_leaves_runs_alone(tmp_path, data_root, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["sweep", "smoke", "--data-dir", str(data_root), "--grid", "epochs=1", "--task", "chemprot"]
    args += ["--set", "tasks.chemprot.max_examples=64"]
    assert main([*args, "--out", "s1"]) == 0
    assert (tmp_path / "s1" / "sweep.md").is_file()
    # Never into a folder that holds another sweep; no run directory (run.json) is created or touched.
    assert main([*args, "--out", "s1"]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert main(args) == 0
    (default,) = (tmp_path / "runs" / "sweeps" / "smoke").iterdir()
    assert (default / "sweep.md").is_file()
    assert not list(tmp_path.rglob("run.json"))


def test_a_missing_base_model_is_one_line_naming_file_and_key(tmp_path, data_root, capsys):
    args = ["ingest", "smoke", "--data-dir", str(data_root), "--out", str(tmp_path / "o")]
    assert main([*args, "--set", f"base_model={tmp_path / 'no-model'}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "smoke.yaml: base_model: base model" in err[0] and "no config.json" in err[0]
    assert not (tmp_path / "o").exists()
