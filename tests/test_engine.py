"""Where fan-out goes: the recipe's engine picks Prefect's task runner; GPU pinning only acts on a Dask worker."""

from prefect.task_runners import ThreadPoolTaskRunner
from prefect_dask import DaskTaskRunner

from dapt.recipe import EngineConfig
from pipelines.engine import gpu_annotation, pin_worker_gpu, task_runner


def test_local_engine_is_a_thread_pool_of_the_finetune_workers():
    runner = task_runner(EngineConfig(finetune_workers=3))
    assert isinstance(runner, ThreadPoolTaskRunner) and runner._max_workers == 3


def test_dask_engine_local_cluster_or_address():
    local = task_runner(EngineConfig(kind="dask", workers=4, gpus_per_finetune=1))
    assert isinstance(local, DaskTaskRunner) and local.address is None
    assert local.cluster_kwargs["n_workers"] == 4 and local.cluster_kwargs["resources"] == {"GPU": 1}
    assert local.cluster_kwargs["threads_per_worker"] == 1
    remote = task_runner(EngineConfig(kind="dask", address="tcp://10.0.0.5:8786"))
    assert remote.address == "tcp://10.0.0.5:8786"


def test_gpu_annotation_only_with_gpu_resources():
    import dask

    with gpu_annotation(EngineConfig(kind="dask", gpus_per_finetune=1)):
        assert dask.get_annotations() == {"resources": {"GPU": 1}}
    with gpu_annotation(EngineConfig(kind="dask")):
        assert dask.get_annotations() == {}


def test_pin_worker_gpu_is_a_no_op_outside_a_dask_worker():
    assert pin_worker_gpu() is None
