"""The Prefect task runner a run's fan-out goes to, from the recipe's ``engine`` (:class:`dapt.recipe.EngineConfig`):
Prefect's thread pool on this machine, or ``prefect_dask.DaskTaskRunner`` (a scheduler address, or a local cluster
of worker processes). Chosen when the flow runs, so the CLI, ``dapt serve`` and deployed flows all honour it."""

from __future__ import annotations

import contextlib

from dapt.recipe import EngineConfig


def task_runner(engine: EngineConfig):
    if engine.kind == "dask":
        from prefect_dask import DaskTaskRunner

        if engine.address:
            return DaskTaskRunner(address=engine.address)
        # One thread per worker process: each fine-tune or ingest part uses its process's cores itself. On a GPU node
        # each worker holds one GPU (resource "GPU": 1) and pins it (pin_worker_gpu).
        cluster = {"n_workers": engine.workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None}
        if engine.gpus_per_finetune:
            cluster["resources"] = {"GPU": 1}
        return DaskTaskRunner(cluster_kwargs=cluster)
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=engine.finetune_workers)


def gpu_annotation(engine: EngineConfig):
    """Each fine-tune holds ``gpus_per_finetune`` of a Dask worker's ``GPU`` resource: one task per GPU."""
    if engine.kind == "dask" and engine.gpus_per_finetune:
        import dask

        return dask.annotate(resources={"GPU": engine.gpus_per_finetune})
    return contextlib.nullcontext()


def pin_worker_gpu() -> int | None:
    """On worker ``k`` of a local Dask cluster on a multi-GPU node, make GPU ``k mod n`` the current device (what
    ``torch.device("cuda")`` means), so parallel fine-tunes use different GPUs. Workers of a real cluster are
    started one per GPU with ``CUDA_VISIBLE_DEVICES`` set (or by dask-cuda) and see one device: index 0. Returns the
    device index, or None outside a Dask worker or without CUDA."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):  # not on a Dask worker
        return None
    import torch

    if not torch.cuda.is_available():
        return None
    index = worker.name if isinstance(worker.name, int) else 0
    device = index % torch.cuda.device_count()
    torch.cuda.set_device(device)
    return device
