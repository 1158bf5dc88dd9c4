import json
import threading

import pytest

from dapt.run.ledger import Ledger, inputs_hash


def _ledger(tmp_path):
    return Ledger(tmp_path / "run.json", tmp_path / "locks")


def test_a_finished_stage_is_reused_only_for_the_same_inputs(tmp_path):
    ledger, built = _ledger(tmp_path), []

    def stage(inputs):
        with ledger.stage("s", inputs) as st:
            if st.done:
                return "cached"
            built.append(inputs)
            return "built"

    assert stage({"a": 1}) == "built"
    assert stage({"a": 1}) == "cached"
    assert stage({"a": 2}) == "built"
    rec = json.loads((tmp_path / "run.json").read_text())["stages"]["s"]
    assert rec["status"] == "done" and rec["inputs_hash"] == inputs_hash({"a": 2}) and rec["seconds"] >= 0
    assert built == [{"a": 1}, {"a": 2}]


def test_a_failed_stage_is_not_recorded(tmp_path):
    ledger = _ledger(tmp_path)
    with pytest.raises(RuntimeError), ledger.stage("s", {"a": 1}):
        raise RuntimeError("boom")
    assert "s" not in ledger.read()["stages"]
    with ledger.stage("s", {"a": 1}) as st:
        assert not st.done


def test_inputs_hash_ignores_key_order():
    assert inputs_hash({"a": 1, "b": [1, 2]}) == inputs_hash({"b": [1, 2], "a": 1})
    assert inputs_hash({"a": 1}) != inputs_hash({"a": "1"})


def test_concurrent_marks_keep_each_others_entries(tmp_path):
    ledger = _ledger(tmp_path)

    def mark(i):
        ledger.mark(f"s{i}", "h", 0.0)

    threads = [threading.Thread(target=mark, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(ledger.read()["stages"]) == [f"s{i}" for i in range(8)]
