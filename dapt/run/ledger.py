"""The stage ledger: ``run.json`` records each finished stage with the hash of the inputs it was built from, and
one ``flock`` per stage keeps two processes from building the same thing at once.

Every stage uses it the same way::

    with ctx.stage(key, inputs) as st:
        if st.done:
            return <read the finished output>
        ... build ...
        return output          # leaving the block normally records the stage as done, with its time

A stage whose body raises is not recorded, so a rerun redoes it. A stage is done only when its record matches
*and* every output it names still exists (a deleted output folder is rebuilt, not trusted). Each stage's inputs
carry a hash of the source of the code that builds it (:func:`dapt.run.provenance.source_hash`), so a rerun after a
code change redoes it; each record carries the git commit and dapt version that built it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("dapt")


def inputs_hash(inputs: dict) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class StageRecord:
    key: str
    done: bool
    """True when ``run.json`` already holds this stage for the same inputs: the body should read, not build."""


class Ledger:
    def __init__(self, run_json: Path, locks_dir: Path):
        self.run_json = run_json
        self.locks_dir = locks_dir

    def read(self) -> dict:
        return json.loads(self.run_json.read_text()) if self.run_json.exists() else {"stages": {}}

    def write(self, info: dict) -> None:
        tmp = self.run_json.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(info, indent=2))
        tmp.replace(self.run_json)

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """One process at a time per key: a second run of the same stage on the same run directory waits, then
        finds it done (same inputs) and reuses it. ``flock`` locks die with their process, so a killed run never
        leaves a stale lock."""
        self.locks_dir.mkdir(exist_ok=True)
        with open(self.locks_dir / (key.replace("/", "__") + ".lock"), "w") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.info("%s: running in another process; waiting for it", key)
                fcntl.flock(f, fcntl.LOCK_EX)
            yield

    def update(self, change) -> None:
        """Read-modify-write ``run.json`` under its lock: concurrent stages must not lose each other's entries."""
        with self.lock("run.json"):
            info = self.read()
            change(info)
            self.write(info)

    def is_done(self, key: str, hash_: str) -> bool:
        st = self.read()["stages"].get(key)
        return bool(st and st.get("inputs_hash") == hash_ and st.get("status") == "done")

    def mark(self, key: str, hash_: str, seconds: float, **extra) -> None:
        def change(info: dict) -> None:
            info["stages"][key] = {
                "status": "done",
                "inputs_hash": hash_,
                "seconds": round(seconds, 2),
                "finished_at": time.time(),
                **extra,
            }

        self.update(change)

    @contextmanager
    def stage(
        self, key: str, inputs: dict, outputs: tuple[Path, ...] = (), reuse: bool = True
    ) -> Iterator[StageRecord]:
        """``reuse=False``: always rebuilt (and recorded), for stages cheap enough that a cache is not worth it."""
        from dapt.run.provenance import stage_provenance

        h = inputs_hash(inputs)
        with self.lock(key):
            done = self.is_done(key, h)
            missing = [str(p) for p in outputs if not p.exists()]
            if done and missing:
                log.warning("%s: recorded as done but %s is missing; redoing it", key, missing[0])
            record = StageRecord(key, reuse and done and not missing)
            t0 = time.perf_counter()
            yield record
            if not record.done:
                self.mark(key, h, time.perf_counter() - t0, **stage_provenance())
