"""Task fine-tuning: sequence and token classification with identical settings for every variant, and the run's
fine-tuning stage."""

from dapt.finetune.stage import finetune_inputs, finetune_stage
from dapt.finetune.train import FinetuneResult, run_finetune

__all__ = ["FinetuneResult", "finetune_inputs", "finetune_stage", "run_finetune"]
