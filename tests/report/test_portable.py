from pathlib import Path

from dapt.report.portable import portable_paths


def test_machine_paths_become_relative_to_what_they_belong_to():
    roots = {"<run>": Path("/m/runs/r1"), "<data>": Path("/m/shared/data"), "<repo>": Path("/m/checkout")}
    exact = {"/m/venv/site-packages/cognition/model": "splade-tiny"}
    doc = {
        "base_model": "/m/venv/site-packages/cognition/model",
        "jobs": [{"model": "/m/runs/r1/pretrain/dapt/model", "corpus": "/m/runs/r1"}],
        "provenance": {"data_root": "/m/shared/data", "recipe_file": "/m/checkout/pipelines/recipes/x.yaml"},
        "other": "/home/someone/private/thing.txt",
        "prose": "/ not a path",
        "name": "dapt+tapt",
        "n": 3,
    }
    out = portable_paths(doc, roots, exact)
    assert out == {
        "base_model": "splade-tiny",
        "jobs": [{"model": "<run>/pretrain/dapt/model", "corpus": "<run>"}],
        "provenance": {"data_root": "<data>", "recipe_file": "<repo>/pipelines/recipes/x.yaml"},
        "other": "<elsewhere>/private/thing.txt",
        "prose": "/ not a path",
        "name": "dapt+tapt",
        "n": 3,
    }
