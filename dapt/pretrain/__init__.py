"""Continued pretraining: masked LM on packed blocks of domain text."""

from dapt.pretrain.train import PretrainResult, run_pretrain

__all__ = ["PretrainResult", "run_pretrain"]
