"""Task fine-tuning: sequence classification with identical settings for every variant."""

from dapt.finetune.train import FinetuneResult, run_finetune

__all__ = ["FinetuneResult", "run_finetune"]
