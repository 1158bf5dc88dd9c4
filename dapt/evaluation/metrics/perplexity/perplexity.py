"""Local `evaluate` module: perplexity from per-token negative log-likelihoods (nats).

The hub's `perplexity` downloads a causal LM and scores texts; pretraining already has the losses (masked-LM or
causal), so this one takes them: compute(token_nll=[...], weights=[...] optional) returns perplexity and mean_nll.
Load with `evaluate.load(<this dir>)`.
"""

import math

import datasets
import evaluate

from dapt.metrics import perplexity


class Perplexity(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="exp of the mean negative log-likelihood per predicted token (MLM: masked tokens only).",
            citation="",
            inputs_description="token_nll (list of float): per-token losses in nats; weights (optional): per loss.",
            features=datasets.Features({"token_nll": datasets.Value("float64")}),
        )

    def _compute(self, token_nll, weights=None):
        ppl = perplexity(token_nll, weights)
        return {"perplexity": ppl, "mean_nll": math.log(ppl)}
