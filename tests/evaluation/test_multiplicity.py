import pytest

from dapt.evaluation.multiplicity import adjust_all, holm_adjust


def test_holm_on_known_values():
    # Textbook case: p = 0.01, 0.04, 0.03, 0.005 (m = 4). Sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1
    # = 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06.
    assert holm_adjust([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm_adjust([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm_adjust([]) == []
    assert holm_adjust([0.2]) == [0.2]


def test_adjust_all_holds_two_families_and_covers_every_comparison():
    ev = {
        "comparisons": {"t": {"dapt": {"p_value": 0.01}, "tapt": {"p_value": 0.04}}},
        "contrasts": {"t": {"dapt vs general": {"p_value": 0.03}}},
        "learning_curve": {"t": {"0.1": {"baseline": {"scores": []}, "dapt": {"vs_baseline": {"p_value": 0.005}}}}},
    }
    assert adjust_all(ev) == {"primary": 2, "secondary": 2}
    # Primary: 0.01, 0.04 -> 0.02, 0.04. Secondary: 0.005, 0.03 -> 0.01, 0.03.
    assert ev["comparisons"]["t"]["dapt"]["p_adjusted"] == pytest.approx(0.02)
    assert ev["comparisons"]["t"]["tapt"]["p_adjusted"] == pytest.approx(0.04)
    assert ev["contrasts"]["t"]["dapt vs general"]["p_adjusted"] == pytest.approx(0.03)
    assert ev["learning_curve"]["t"]["0.1"]["dapt"]["vs_baseline"]["p_adjusted"] == pytest.approx(0.01)
    assert ev["comparisons"]["t"]["tapt"]["n_comparisons"] == 2
    assert ev["comparisons"]["t"]["tapt"]["family"] == "primary"


def _cmp(p, per_seed):
    return {
        "p_value": p,
        "per_seed_diff": per_seed,
        "se": 0.01,
        "se_seeds": 0.008,
        "se_test": 0.004,
        "df": 1.0,
        "n_seeds": len(per_seed),
        "method": "t",
    }


def test_a_comparison_listed_twice_counts_once_and_a_refused_one_not_at_all():
    main = _cmp(0.01, [0.02, 0.03])
    ev = {
        "comparisons": {"t": {"dapt": main, "tapt": {"p_value": None, "per_seed_diff": [0.1], "n_seeds": 1}}},
        # The transfer table's full fine-tuning cell: the same predictions as the main comparison.
        "transfer": {
            "t": {
                "modes": {
                    "full_ft": {"dapt": {"vs_baseline": dict(main)}},
                    "few_shot_ft": {"dapt": {"vs_baseline": _cmp(0.02, [0.01, 0.05])}},
                }
            }
        },
    }
    assert adjust_all(ev) == {"primary": 1, "secondary": 1}
    dup = ev["transfer"]["t"]["modes"]["full_ft"]["dapt"]["vs_baseline"]
    assert dup["duplicate"] and dup["p_adjusted"] == main["p_adjusted"] == 0.01 and dup["family"] == "primary"
    assert ev["comparisons"]["t"]["tapt"]["family"] is None and "p_adjusted" not in ev["comparisons"]["t"]["tapt"]


def test_power_figures_are_at_the_holm_threshold():
    a, b = _cmp(0.001, [0.02, 0.03]), _cmp(0.2, [0.02, 0.03001])
    adjust_all({"comparisons": {"t": {"x": a, "y": b}}})
    assert a["alpha_holm"] == pytest.approx(0.025) and b["alpha_holm"] == pytest.approx(0.05)
    assert a["mdd80"] > b["mdd80"]  # same SE, stricter threshold
