import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, f1_score

from dapt.evaluation.scores import accuracy, macro_f1, micro_f1, score

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
