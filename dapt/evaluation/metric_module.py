"""The shared body of dapt's local ``evaluate`` modules (``metrics/<name>/<name>.py``).

Each module file only names its metric; scikit-learn computes it (:mod:`dapt.metrics.classification`, the same call that
selects epochs on dev). Module files import this module (not the class) because ``evaluate`` takes the first
``EvaluationModule`` subclass it finds in a module's namespace as the metric.
"""

from __future__ import annotations

import datasets
import evaluate

from dapt.metrics import METRICS

_KWARGS = """
Args:
    predictions (list of int): predicted label ids.
    references (list of int): gold label ids.
    labels (list of int, optional): F1 metrics only: the labels to average over (default: all present).
Returns:
    {name} (float): the score in [0, 1].
"""


class ClassificationMetric(evaluate.Metric):
    metric_name: str = ""
    metric_description: str = ""

    def _info(self):
        return evaluate.MetricInfo(
            description=self.metric_description,
            citation="",
            inputs_description=_KWARGS.format(name=self.metric_name),
            features=datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references, labels=None):
        kwargs = {"labels": labels} if labels is not None else {}
        return {self.metric_name: METRICS[self.metric_name](predictions, references, **kwargs)}
