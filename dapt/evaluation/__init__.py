"""Evaluation: test predictions scored with the local ``evaluate`` modules, each variant compared with the baseline
(and the contrasts between variants) over seeds and test examples, Holm over all comparisons, and the run's
evaluation stage."""

from dapt.evaluation.multiplicity import adjust_all, holm_adjust
from dapt.evaluation.power import minimum_detectable_difference
from dapt.evaluation.seed_interval import DIFF_RANGE, seed_aware_comparison, t_interval
from dapt.evaluation.stage import CONTRASTS, evaluate_stage, evaluation_inputs

__all__ = [
    "CONTRASTS",
    "DIFF_RANGE",
    "adjust_all",
    "evaluate_stage",
    "evaluation_inputs",
    "holm_adjust",
    "minimum_detectable_difference",
    "seed_aware_comparison",
    "t_interval",
]
