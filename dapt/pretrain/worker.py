"""One training process of a multi-process run: ``python -m dapt.pretrain.worker <launch.json>`` under a launcher
(``torchrun``, ``accelerate launch``, ``deepspeed``) that sets RANK / WORLD_SIZE / MASTER_ADDR.

``dapt.pretrain.run_pretrain`` writes ``launch.json`` and starts the workers itself for ``num_processes`` > 1 on
one machine. For several machines, start this module on each node with the same ``launch.json`` (README.md,
"Several machines").
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

from dapt.recipe import PretrainConfig


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python -m dapt.pretrain.worker LAUNCH_JSON")
    if "WORLD_SIZE" not in os.environ:
        raise SystemExit("dapt.pretrain.worker runs under a launcher (torchrun / accelerate launch / deepspeed)")
    spec = json.loads(Path(argv[0]).read_text())
    rank = int(os.environ.get("RANK", "0"))
    logging.basicConfig(
        level=logging.INFO if rank == 0 else logging.WARNING,
        format=f"%(asctime)s rank{rank} %(levelname)s %(name)s: %(message)s",
    )
    from dapt.pretrain.train import run_pretrain

    opt = {k: Path(spec[k]) if spec[k] else None for k in ("general_dir", "heldout_dir", "replay_dir")}
    run_pretrain(
        PretrainConfig.model_validate(spec["cfg"]),
        Path(spec["base_model_dir"]),
        Path(spec["dataset_dir"]),
        Path(spec["out_dir"]),
        trust_remote_code=spec["trust_remote_code"],
        progress=False,
        description=spec["description"],
        **opt,
    )


if __name__ == "__main__":
    main()
