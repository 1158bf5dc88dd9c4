from dapt.report import build_results, render_report
from dapt.report.markdown import verdict_lines
from dapt.report.results import BELOW_FLOOR

FLOORS = {
    "t": {
        "majority": {"metric": "micro_f1", "test": 0.36, "dev": 0.35},
        "tfidf-lr": {"metric": "micro_f1", "test": 0.58, "dev": 0.57},
    }
}


def make(dapt_scores, ci, p=0.01, base=(0.60, 0.62, 0.61)):
    test = {
        "t": {
            "baseline": {"metric": "micro_f1", "scores": list(base)},
            "dapt": {"metric": "micro_f1", "scores": list(dapt_scores)},
        }
    }
    cmp = {"t": {"dapt": {"diff": sum(dapt_scores) / 3 - sum(base) / 3, "ci95": list(ci), "p_value": p}}}
    dev = {"t": {"baseline": [0.6] * 3, "dapt": [0.6] * 3}}
    return build_results("r", "h", [0, 1, 2], test, dev, cmp, FLOORS)


def test_contract_keys():
    res = make([0.65, 0.66, 0.64], (0.02, 0.05))
    row = res["tasks"]["t"]["dapt"]
    assert res["recipe"] == "r"
    assert {"metric", "scores", "mean", "std"} <= set(row)
    assert abs(row["mean"] - 0.65) < 1e-9 and abs(row["std"] - 0.01) < 1e-9
    assert res["tasks"]["t"]["tfidf-lr"]["reference"] is True
    assert res["tasks"]["t"]["majority"]["mean"] == 0.36


def test_verdict_significant_gain_no_difference_and_loss():
    assert "improved t micro_f1" in verdict_lines(make([0.65, 0.66, 0.64], (0.02, 0.05)))[0]
    assert "no significant difference" in verdict_lines(make([0.61, 0.62, 0.60], (-0.01, 0.01), p=0.6))[0]
    assert "lowered t micro_f1" in verdict_lines(make([0.59, 0.59, 0.59], (-0.04, -0.01)))[0]


def test_below_floor_flagged_in_results_report_and_verdict():
    res = make([0.50, 0.52, 0.51], (-0.12, -0.08), base=(0.40, 0.41, 0.42))
    assert {f["variant"] for f in res["flags"]} == {"baseline", "dapt"}
    assert res["tasks"]["t"]["baseline"]["below_floor"] is True
    md = render_report(res)
    assert BELOW_FLOOR in md and "below tfidf-lr floor" in md
    assert "Caution" in verdict_lines(res)[0]
    ok = make([0.65, 0.66, 0.64], (0.02, 0.05))
    assert ok["flags"] == [] and BELOW_FLOOR not in render_report(ok)
