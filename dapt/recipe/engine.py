"""Where a run's parallel work goes: this machine (the default, sequential where it should be) or an existing
Dask cluster through Prefect's task runner. Execution only: no setting here changes any output, so none is part of
a stage hash or of the recipe's config hash."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from dapt.recipe.base import _Strict


class EngineConfig(_Strict):
    kind: Literal["local", "dask"] = "local"
    """``local``: this process (``ingest_workers`` > 1: a local process pool); ``dask``: the Prefect flow runs its
    fan-out tasks with ``prefect_dask.DaskTaskRunner`` (a cluster at ``address``, or a local one)."""
    address: str | None = None
    """A Dask scheduler, e.g. ``tcp://10.0.0.5:8786``; None with ``kind: dask``: a local cluster of
    ``workers`` processes."""
    workers: Annotated[int, Field(ge=1)] = 2
    """Processes of the local Dask cluster (``kind: dask`` without an address)."""
    ingest_workers: Annotated[int, Field(ge=1)] = 1
    """Parallel map/reduce workers of the ingest phases (the output does not depend on it)."""
    finetune_workers: Annotated[int, Field(ge=1)] = 1
    """Fine-tunes run at once. 1 (sequential) is right on a small CPU box, where each fine-tune's intra-op
    threads already use every core; on a GPU node, one per GPU (each task takes one ``GPU`` resource)."""
    gpus_per_finetune: Annotated[int, Field(ge=0)] = 0
    """Dask resource ``GPU`` each fine-tune holds (workers must be started with ``--resources GPU=<n>``)."""

    @model_validator(mode="after")
    def _address_needs_dask(self) -> EngineConfig:
        if self.address is not None and self.kind != "dask":
            raise ValueError("address: a scheduler address needs kind: dask")
        if self.address is not None and not self.address.startswith(("tcp://", "tls://", "inproc://", "ws://")):
            raise ValueError(f"address: {self.address!r} is not a Dask scheduler address (tcp://host:port)")
        if self.kind == "dask" and self.address is None and self.gpus_per_finetune > 1:
            raise ValueError("gpus_per_finetune: a local cluster's workers hold one GPU each; use 0 or 1")
        return self
