import gzip
import json

from dapt.ingest.readers import MalformedRecord, read_jsonl, read_text_lines


def test_text_lines_skip_blank_and_keep_ids(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("first doc\n\n  \nsecond doc\n")
    docs = list(read_text_lines(p, "src"))
    assert [d.text for d in docs] == ["first doc", "second doc"]
    assert [d.doc_id for d in docs] == ["a.txt:1", "a.txt:4"]
    assert {d.source for d in docs} == {"src"}


def test_text_lines_gzip(tmp_path):
    p = tmp_path / "a.txt.gz"
    with gzip.open(p, "wt") as f:
        f.write("x y z\nw\n")
    assert [d.text for d in read_text_lines(p, "s")] == ["x y z", "w"]


def test_text_lines_bad_bytes_do_not_crash(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_bytes(b"ok line\n\xff\xfe broken\n")
    texts = [d.text for d in read_text_lines(p, "s")]
    assert texts[0] == "ok line" and "\ufffd" in texts[1]


def test_jsonl_malformed_lines_are_reported_not_raised(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text(json.dumps({"body": "hello"}) + "\n{not json\n" + json.dumps({"text": 3}) + "\n[1]\n")
    out = list(read_jsonl(p, "s", text_field="body"))
    assert out[0].text == "hello"
    assert [type(o) for o in out[1:]] == [MalformedRecord] * 3
    assert "invalid JSON" in out[1].reason and out[1].doc_id == "a.jsonl:2"


def test_real_biomed_file_reads(data_root):
    p = data_root / "biomed_unlabelled" / "pubmedqa" / "abstracts.txt"
    docs = list(read_text_lines(p, "pubmedqa"))
    assert len(docs) == 1000  # PROVENANCE.md: one abstract per line, 1,000 lines
