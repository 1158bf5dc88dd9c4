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
        # One thread per worker process: each fine-tune or ingest part uses its process's cores itself.
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": engine.workers,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
            }
        )
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=engine.finetune_workers)


def gpu_annotation(engine: EngineConfig):
    """Each fine-tune holds ``gpus_per_finetune`` of a Dask worker's ``GPU`` resource: one task per GPU."""
    if engine.kind == "dask" and engine.gpus_per_finetune:
        import dask

        return dask.annotate(resources={"GPU": engine.gpus_per_finetune})
    return contextlib.nullcontext()
