import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, f1_score

from dapt.metrics import accuracy, macro_f1, micro_f1, score

pairs = st.integers(1, 200).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 6), min_size=n, max_size=n),
        st.lists(st.integers(0, 6), min_size=n, max_size=n),
    )
)


@settings(max_examples=300, deadline=None)
@given(pairs)
def test_match_sklearn(pr):
    p, r = pr
    assert micro_f1(p, r) == pytest.approx(f1_score(r, p, average="micro"))
    assert macro_f1(p, r) == pytest.approx(f1_score(r, p, average="macro", zero_division=0))
    assert accuracy(p, r) == pytest.approx(accuracy_score(r, p))
    labels = [0, 2, 3]
    assert micro_f1(p, r, labels=labels) == pytest.approx(
        f1_score(r, p, average="micro", labels=labels, zero_division=0)
    )
    assert macro_f1(p, r, labels=labels) == pytest.approx(
        f1_score(r, p, average="macro", labels=labels, zero_division=0)
    )


def test_errors():
    with pytest.raises(ValueError, match="equal-length"):
        accuracy([1, 2], [1])
    with pytest.raises(ValueError, match="empty"):
        micro_f1([], [])
    with pytest.raises(ValueError, match="unknown metric"):
        score("bleu", [1], [1])


def test_local_evaluate_modules_match_sklearn():
    from dapt.evaluation.modules import load_metric, metric_path

    rng = np.random.default_rng(0)
    for _ in range(5):
        r = rng.integers(0, 13, 500).tolist()
        p = np.where(rng.random(500) < 0.6, r, rng.integers(0, 13, 500)).tolist()
        assert load_metric("micro_f1").compute(predictions=p, references=r)["micro_f1"] == pytest.approx(
            f1_score(r, p, average="micro")
        )
        assert load_metric("macro_f1").compute(predictions=p, references=r)["macro_f1"] == pytest.approx(
            f1_score(r, p, average="macro")
        )
        assert load_metric("accuracy").compute(predictions=p, references=r)["accuracy"] == pytest.approx(
            accuracy_score(r, p)
        )
    with pytest.raises(ValueError, match="known"):
        metric_path("bleu")


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 40), st.integers(2, 50), st.integers(0, 10_000))
def test_perplexity_matches_torch_cross_entropy(n_tokens, vocab, seed):
    import torch
    import torch.nn.functional as F

    from dapt.metrics import perplexity

    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n_tokens, vocab, generator=g, dtype=torch.float64) * 3
    labels = torch.randint(0, vocab, (n_tokens,), generator=g)
    nll = F.cross_entropy(logits, labels, reduction="none")
    expected = float(torch.exp(F.cross_entropy(logits, labels)))
    assert perplexity(nll.tolist()) == pytest.approx(expected, rel=1e-9)
    # Batch means weighted by their token counts give the same number as every token's loss.
    half = n_tokens // 2
    if 0 < half < n_tokens:
        means = [float(nll[:half].mean()), float(nll[half:].mean())]
        assert perplexity(means, [half, n_tokens - half]) == pytest.approx(expected, rel=1e-9)


def test_local_perplexity_module_matches_torch():
    import torch
    import torch.nn.functional as F

    from dapt.evaluation.modules import load_metric

    g = torch.Generator().manual_seed(0)
    logits, labels = torch.randn(300, 1000, generator=g), torch.randint(0, 1000, (300,), generator=g)
    labels[::7] = -100  # unmasked positions carry no loss
    nll = F.cross_entropy(logits, labels, reduction="none", ignore_index=-100)[labels != -100]
    out = load_metric("perplexity").compute(token_nll=nll.tolist())
    assert out["perplexity"] == pytest.approx(float(torch.exp(F.cross_entropy(logits, labels))), rel=1e-5)
    with pytest.raises(ValueError, match="non-empty"):
        load_metric("perplexity").compute(token_nll=[])
