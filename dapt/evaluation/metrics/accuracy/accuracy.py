"""Local `evaluate` module: accuracy (the hub copy cannot be downloaded here). Load with `evaluate.load(<this dir>)`."""

import dapt.evaluation.metric_module as base


class Accuracy(base.ClassificationMetric):
    metric_name = "accuracy"
    metric_description = "Fraction of predictions equal to the reference."
