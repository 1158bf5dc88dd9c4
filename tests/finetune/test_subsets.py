"""Learning-curve subsets: stratified, nested across fractions, a function of the seed alone."""

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from dapt.finetune.subsets import epochs_for, subset_indices

labels_st = st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=300)


@settings(max_examples=60, deadline=None)
@given(labels=labels_st, seed=st.integers(0, 1000), f1=st.floats(0.01, 1.0), f2=st.floats(0.01, 1.0))
def test_nested_stratified_and_every_label_kept(labels, seed, f1, f2):
    small, large = sorted((f1, f2))
    a, b = subset_indices(labels, small, seed), subset_indices(labels, large, seed)
    assert set(a) <= set(b)  # nested: the 1% subset is inside the 10% one
    assert a == sorted(set(a))
    counts, kept = Counter(labels), Counter(labels[i] for i in a)
    assert set(kept) == set(counts)  # every train label keeps at least one example
    for lab, n in counts.items():
        assert kept[lab] == min(n, max(1, round(small * n)))  # the label mix follows the full set


def test_same_subset_for_same_seed_different_for_another():
    labels = ["x"] * 500 + ["y"] * 50
    assert subset_indices(labels, 0.1, 3) == subset_indices(list(labels), 0.1, 3)
    assert subset_indices(labels, 0.1, 3) != subset_indices(labels, 0.1, 4)
    assert subset_indices(labels, 1.0, 3) == list(range(550))
    assert len(subset_indices(200, 0.25, 0)) == 50  # unlabelled (sentences of a tagging task)


def test_epochs_raised_to_the_minimum_number_of_steps():
    assert epochs_for(6, 42, 32, 100) == 50  # 2 batches an epoch
    assert epochs_for(6, 4169, 32, 100) == 6  # already more than 100 steps
    assert epochs_for(3, 10, 32, 0) == 3
