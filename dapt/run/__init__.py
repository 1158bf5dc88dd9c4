"""The run: a run directory's layout (every path), its stage ledger (inputs hash, done/mark, locks, provenance),
the plan (which jobs a recipe implies) and :class:`Run`, the facade the CLI and the flow call. Neutral: every
stage uses it; it imports no stage at module level."""

from dapt.run.context import RunContext
from dapt.run.facade import STAGES, Run
from dapt.run.layout import RunLayout
from dapt.run.ledger import Ledger, inputs_hash
from dapt.run.plan import PretrainJob, finetune_jobs, finetune_key, pretrain_jobs
from dapt.run.provenance import provenance

__all__ = [
    "STAGES",
    "Ledger",
    "PretrainJob",
    "Run",
    "RunContext",
    "RunLayout",
    "finetune_jobs",
    "finetune_key",
    "inputs_hash",
    "pretrain_jobs",
    "provenance",
]
