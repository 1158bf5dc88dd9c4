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


def test_caps_cut_train_per_seed_and_dev_once_never_test():
    from dapt.finetune.subsets import cap_examples
    from dapt.recipe import FinetuneConfig
    from dapt.tasks import Example, SplitData

    def split(n):
        return SplitData([Example(f"x{i}", f"text {i}", "a" if i % 4 else "b") for i in range(n)])

    cfg = FinetuneConfig(max_train_examples=40, max_eval_examples=20)
    runs = []
    for seed in (0, 1):
        splits = {"train": split(400), "dev": split(100), "test": split(100)}
        cap_examples("t", splits, [e.label for e in splits["train"].examples], cfg, seed)
        runs.append(splits)
    for splits in runs:
        assert len(splits["train"].examples) == 40 and len(splits["dev"].examples) == 20
        assert len(splits["test"].examples) == 100
        assert Counter(e.label for e in splits["train"].examples) == {"a": 30, "b": 10}  # stratified
    ids = [[e.example_id for e in s["train"].examples] for s in runs]
    assert ids[0] != ids[1]  # train: per seed
    assert [e.example_id for e in runs[0]["dev"].examples] == [e.example_id for e in runs[1]["dev"].examples]


def test_few_shot_and_curve_jobs_keep_their_train_but_cap_dev():
    """A few-shot or learning-curve job already has its train subset; dev is still capped (scoring a full dev split
    every epoch cost a 135M decoder 6.5 min an epoch)."""
    from dapt.finetune.subsets import cap_examples
    from dapt.recipe import FinetuneConfig
    from dapt.tasks import Example, SplitData

    def split(n):
        return SplitData([Example(f"x{i}", f"text {i}", "a" if i % 4 else "b") for i in range(n)])

    splits = {"train": split(60), "dev": split(100), "test": split(100)}
    cap_examples("t", splits, None, FinetuneConfig(max_train_examples=40, max_eval_examples=20), 0, cap_train=False)
    assert [len(splits[s].examples) for s in ("train", "dev", "test")] == [60, 20, 100]
