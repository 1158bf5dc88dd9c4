import pytest

from dapt.evaluation.multiplicity import adjust_all, holm_adjust


def test_holm_on_known_values():
    # Textbook case: p = 0.01, 0.04, 0.03, 0.005 (m = 4). Sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1
    # = 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06.
    assert holm_adjust([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm_adjust([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm_adjust([]) == []
    assert holm_adjust([0.2]) == [0.2]


def test_adjust_all_covers_every_comparison_in_an_evaluation():
    ev = {
        "comparisons": {"t": {"dapt": {"p_value": 0.01}, "tapt": {"p_value": 0.04}}},
        "contrasts": {"t": {"dapt vs general": {"p_value": 0.03}}},
        "learning_curve": {"t": {"0.1": {"baseline": {"scores": []}, "dapt": {"vs_baseline": {"p_value": 0.005}}}}},
    }
    assert adjust_all(ev) == 4
    assert ev["comparisons"]["t"]["dapt"]["p_adjusted"] == pytest.approx(0.03)
    assert ev["contrasts"]["t"]["dapt vs general"]["p_adjusted"] == pytest.approx(0.06)
    assert ev["learning_curve"]["t"]["0.1"]["dapt"]["vs_baseline"]["p_adjusted"] == pytest.approx(0.02)
    assert ev["comparisons"]["t"]["tapt"]["n_comparisons"] == 4
