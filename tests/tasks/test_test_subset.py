"""The transfer table's test subset: stratified, stable, and cut in place with the full size returned."""

from dapt.tasks import SplitData, cut_test, stratified_test_subset
from dapt.tasks.formats import Example


def test_subset_keeps_each_labels_share_and_is_the_same_every_call():
    labels = ["a"] * 70 + ["b"] * 25 + ["c"] * 5
    keep = stratified_test_subset(labels, 20)
    assert keep == stratified_test_subset(labels, 20) and keep == sorted(keep)
    picked = [labels[i] for i in keep]
    assert (picked.count("a"), picked.count("b"), picked.count("c")) == (14, 5, 1)
    assert stratified_test_subset(labels, None) == list(range(100))
    assert stratified_test_subset(labels, 100) == list(range(100))


def test_cut_test_restricts_in_place_to_the_subset():
    labels = ["x", "y"] * 15
    split = SplitData(examples=[Example(example_id=f"e{i}", text=f"t{i}", label=lab) for i, lab in enumerate(labels)])
    assert cut_test(split, 10) == 30
    assert [e.example_id for e in split.examples] == [f"e{i}" for i in stratified_test_subset(labels, 10)]
    assert cut_test(split, None) == 10 and len(split.examples) == 10
