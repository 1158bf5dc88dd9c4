"""Evaluation: test predictions scored with the local ``evaluate`` modules, paired bootstrap against the baseline,
and the run's evaluation stage."""

from dapt.evaluation.stage import evaluate_stage, evaluation_inputs

__all__ = ["evaluate_stage", "evaluation_inputs"]
