"""Local `evaluate` module: strict entity-span F1 over BIO/BIOES tag sequences (seqeval's strict mode).

Load with `evaluate.load(<this dir>)`; compute(predictions=[[tag, ...], ...], references=[[tag, ...], ...],
scheme="BIO" | "BIOES") returns span_f1, span_precision and span_recall.
"""

import datasets
import evaluate

from dapt.metrics import span_prf


class SpanF1(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Strict entity-span precision, recall and F1 (micro over all spans).",
            citation="",
            inputs_description="predictions, references: lists of tag sequences; scheme: BIO or BIOES.",
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("string")),
                    "references": datasets.Sequence(datasets.Value("string")),
                }
            ),
        )

    def _compute(self, predictions, references, scheme="BIO"):
        prf = span_prf(predictions, references, scheme)
        return {"span_f1": prf["f1"], "span_precision": prf["precision"], "span_recall": prf["recall"]}
