"""Local `evaluate` module: accuracy.

The hub copy of the metric cannot be downloaded here, so dapt ships its own: `evaluate.load(path_to_this_dir)`.
The computation is :func:`dapt.evaluation.scores.accuracy`, the same code used for model selection on dev.
"""

import datasets
import evaluate

from dapt.evaluation.scores import accuracy as _accuracy

_DESCRIPTION = "Fraction of predictions equal to the reference."
_KWARGS = """
Args:
    predictions (list of int): predicted label ids.
    references (list of int): gold label ids.
Returns:
    accuracy (float): the score in [0, 1].
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class Accuracy(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS,
            features=datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references):
        return {"accuracy": _accuracy(predictions, references)}
