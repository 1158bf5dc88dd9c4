"""Fan-out on an existing engine: `dapt run smoke` with the ingest's map/reduce parts and the fine-tunes on a local
Dask cluster of 2 workers (Prefect's DaskTaskRunner) gives the sequential run's corpus and scores, and the
fine-tunes did run two at a time. Two smoke runs: about 5 minutes on 2 cores, marked slow."""

import json

import pytest

from tests.test_smoke_run import dapt_run

DASK = (
    "--set", "engine.kind=dask", "--set", "engine.workers=2",
    "--set", "engine.finetune_workers=2", "--set", "engine.ingest_workers=2",
)  # fmt: skip


def _scores(out):
    r = json.loads((out / "results.json").read_text())
    return {
        (t, v): (row["scores"], row.get("vs_baseline", {}).get("diff"))
        for t, variants in r["tasks"].items()
        for v, row in variants.items()
        if "scores" in row
    }


def _corpus(out):
    stats = json.loads((out / "corpus" / "stats.json").read_text())
    manifest = json.loads((out / "corpus" / "manifest.json").read_text())
    return stats["documents"], stats["content_tokens"], [s["sha256"] for s in manifest["shards"]]


def _overlapping(out) -> int:
    """Pairs of fine-tune stages whose run times overlap."""
    st = json.loads((out / "run.json").read_text())["stages"]
    spans = [(v["finished_at"] - v["seconds"], v["finished_at"]) for k, v in st.items() if k.startswith("finetune/")]
    return sum(a0 < b1 and b0 < a1 for i, (a0, a1) in enumerate(spans) for b0, b1 in spans[i + 1 :])


@pytest.mark.slow
def test_dask_fanout_gives_the_sequential_results(tmp_path, data_root):
    seq, fan = tmp_path / "sequential", tmp_path / "dask"
    dapt_run(seq, data_root, tmp_path)
    r, _ = dapt_run(fan, data_root, tmp_path, *DASK)
    assert "ingest-map_shard" in r.stdout + r.stderr  # the ingest parts ran as Prefect tasks
    stats = json.loads((fan / "corpus" / "stats.json").read_text())
    assert stats["input_shards"] >= 2
    assert _corpus(fan) == _corpus(seq)
    assert _scores(fan) == _scores(seq)
    assert _overlapping(seq) == 0 and _overlapping(fan) >= 3
