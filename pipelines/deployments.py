"""One Prefect deployment of ``dapt-pipeline`` per shipped recipe.

``dapt serve`` serves them all from one process (no work pool needed); ``dapt deploy --pool NAME`` registers them
with the Prefect server at ``PREFECT_API_URL`` for a process work pool (created if missing), to be run by
``prefect worker start --pool NAME``. Either way a run is triggered with::

    prefect deployment run 'dapt-pipeline/dapt-biomed'
    prefect deployment run 'dapt-pipeline/dapt-biomed' --params '{"recipe": "smoke", "overrides": {"seeds": [0]}}'
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dapt.recipe import RecipeError, list_recipes, load_recipe
from pipelines.prefect_env import configure_prefect_env

REPO = Path(__file__).resolve().parent.parent
ENTRYPOINT = "pipelines/flow.py:dapt_pipeline"

SCHEDULES: dict[str, str | None] = {
    "dapt-biomed": "0 2 * * 0",  # weekly, Sunday 02:00: the GPU-sized product run
    "dapt-biomed-tiny": "30 1 * * *",  # nightly: the CPU-sized regression run
}
"""Cron schedules (server time zone); recipes not listed here run on demand only."""


@dataclass
class DeploymentSpec:
    name: str
    parameters: dict
    cron: str | None
    description: str
    tags: list[str] = field(default_factory=list)


def deployment_specs(data_dir: str | None, out_root: str, names: list[str] | None = None) -> list[DeploymentSpec]:
    """A deployment per shipped recipe (or per name in ``names``), its parameters filled in: the recipe, the data
    root, the run directory under ``out_root``, no overrides (a trigger may pass its own)."""
    unknown = set(names or []) - set(list_recipes())
    if unknown:
        raise RecipeError(f"no shipped recipe named {sorted(unknown)}; shipped: {list_recipes()}")
    specs = []
    for name in names or list_recipes():
        r = load_recipe(name)
        specs.append(
            DeploymentSpec(
                name=name,
                parameters={
                    "recipe": name,
                    "data_dir": data_dir,
                    "out": str(Path(out_root) / name),
                    "overrides": {},
                },
                cron=SCHEDULES.get(name),
                description=r.description,
                tags=["dapt", name],
            )
        )
    return specs


def serve(data_dir: str | None, out_root: str, names: list[str] | None = None) -> None:
    """Serve every deployment from this process until interrupted (schedules included). Its flow runs check their
    parameters against these roots (:mod:`dapt.run.untrusted`)."""
    if data_dir:
        os.environ["DAPT_DATA_DIR"] = str(data_dir)
    os.environ["DAPT_OUT_ROOT"] = str(out_root)
    configure_prefect_env()
    import prefect

    from pipelines.flow import dapt_pipeline

    deployments = [
        dapt_pipeline.to_deployment(
            name=s.name, cron=s.cron, parameters=s.parameters, description=s.description, tags=s.tags
        )
        for s in deployment_specs(data_dir, out_root, names)
    ]
    prefect.serve(*deployments)


def ensure_process_pool(name: str) -> None:
    configure_prefect_env()
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(name)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=name, type="process"))


def deploy(work_pool: str, data_dir: str | None, out_root: str, names: list[str] | None = None) -> list[str]:
    """Register the deployments with the server for a process work pool; returns their ids."""
    configure_prefect_env()
    from prefect import Flow

    ensure_process_pool(work_pool)
    flow = Flow.from_source(source=str(REPO), entrypoint=ENTRYPOINT)
    ids = []
    for s in deployment_specs(data_dir, out_root, names):
        ids.append(
            str(
                flow.deploy(
                    name=s.name,
                    work_pool_name=work_pool,
                    build=False,
                    push=False,
                    cron=s.cron,
                    parameters=s.parameters,
                    description=s.description,
                    tags=s.tags,
                    print_next_steps=False,
                )
            )
        )
    return ids
