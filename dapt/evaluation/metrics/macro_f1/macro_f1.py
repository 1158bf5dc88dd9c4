"""Local `evaluate` module: macro_f1 (the hub copy cannot be downloaded here). Load with `evaluate.load(<this dir>)`."""

import dapt.evaluation.metric_module as base


class MacroF1(base.ClassificationMetric):
    metric_name = "macro_f1"
    metric_description = "Unweighted mean of per-label F1 over the labels present, as scikit-learn."
