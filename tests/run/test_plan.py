from pathlib import Path

from dapt.run.layout import RunLayout
from dapt.run.plan import PretrainJob, finetune_key


def test_job_keys_round_trip_and_layout():
    for job in (PretrainJob("dapt"), PretrainJob("tapt", "chemprot"), PretrainJob("dapt+tapt", "chemprot")):
        assert PretrainJob.from_key(job.key) == job
    lay = RunLayout(Path("/r"))
    assert str(lay.job_dir(PretrainJob("dapt"))) == "/r/pretrain/dapt"
    assert str(lay.job_dir(PretrainJob("tapt", "t"))) == "/r/pretrain/tapt/t"
    assert str(lay.job_corpus_dir(PretrainJob("knn-tapt", "t"))) == "/r/knn-tapt/t"
    assert str(lay.job_corpus_dir(PretrainJob("general"))) == "/r/general"
    assert PretrainJob.for_variant("dapt", "t") == PretrainJob("dapt")


def test_finetune_keys():
    assert finetune_key("t", "dapt", 2) == "finetune/t/dapt/seed2"
    assert finetune_key("t", "dapt", 2, 0.1) == "finetune/t/dapt/frac0.1/seed2"
