"""Continued pretraining (masked or causal LM on packed blocks), and the run's pretraining stage."""

from dapt.pretrain.stage import job_config, job_inputs, pretrain_all, pretrain_job
from dapt.pretrain.train import PretrainResult, run_pretrain

__all__ = ["PretrainResult", "job_config", "job_inputs", "pretrain_all", "pretrain_job", "run_pretrain"]
