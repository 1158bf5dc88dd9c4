"""The floors stage of a run: one ``floors/<task>.json`` per task, from the task's data alone."""

from __future__ import annotations

import json

from dapt.floors.compute import compute_floors
from dapt.run.context import RunContext
from dapt.run.provenance import source_hash


def floor_inputs(ctx: RunContext, task_name: str) -> dict:
    cap = ctx.recipe.test_cap
    return {
        "task": ctx.task(task_name).hash_dump(),
        "code": source_hash("floors", "tasks", "metrics"),
        # Only where the cap applies, so other recipes' floors keep their hashes.
        **({"max_test_examples": cap} if cap is not None else {}),
    }


def floors_stage(ctx: RunContext, task_name: str) -> dict | None:
    if not ctx.recipe.floors:
        return None
    path = ctx.layout.floors_file(task_name)
    with ctx.stage(f"floors/{task_name}", floor_inputs(ctx, task_name), (path,)) as st:
        if st.done:
            return json.loads(path.read_text())
        return compute_floors(ctx.task(task_name), ctx.data_root, path.parent, ctx.recipe.test_cap)
