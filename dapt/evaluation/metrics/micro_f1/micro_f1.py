"""Local `evaluate` module: micro_f1.

The hub copy of the metric cannot be downloaded here, so dapt ships its own: `evaluate.load(path_to_this_dir)`.
The computation is :func:`dapt.evaluation.scores.micro_f1`, the same code used for model selection on dev.
"""

import datasets
import evaluate

from dapt.evaluation.scores import micro_f1 as _micro_f1

_DESCRIPTION = "micro_f1 F1 (scikit-learn semantics: labels present in references or predictions unless given)."
_KWARGS = """
Args:
    predictions (list of int): predicted label ids.
    references (list of int): gold label ids.
Returns:
    micro_f1 (float): the score in [0, 1].
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class MicroF1(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS,
            features=datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references, labels=None):
        return {"micro_f1": _micro_f1(predictions, references, labels=labels)}
