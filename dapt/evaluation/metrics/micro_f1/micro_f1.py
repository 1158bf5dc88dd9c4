"""Local `evaluate` module: micro_f1 (the hub copy cannot be downloaded here). Load with `evaluate.load(<this dir>)`."""

import dapt.evaluation.metric_module as base


class MicroF1(base.ClassificationMetric):
    metric_name = "micro_f1"
    metric_description = (
        "Micro-averaged F1 over all labels present (equals accuracy for single-label data), as scikit-learn."
    )
