"""Each reader on files built here, and every bad-input kind the issue lists: bad records come back as Rejected
with a reason (the rest of the file is still read); unreadable sources fail before work starts."""

import csv
import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dapt.ingest.readers import Document, ReaderError, Rejected, check_source, read_file, read_source
from dapt.recipe import CorpusSource

MAX = 4_000


def read(tmp_path, name, content: bytes | str, **src):
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    source = CorpusSource(name="s", path=name, **src)
    return list(read_file(source, p, name, MAX))


def texts(records):
    return [r.text for r in records if isinstance(r, Document)]


def reasons(records):
    return [r.reason for r in records if isinstance(r, Rejected)]


def test_text_lines_skip_blank_and_keep_ids(tmp_path):
    out = read(tmp_path, "a.txt", "first doc\n\n  \nsecond doc\n")
    assert texts(out) == ["first doc", "second doc"]
    assert [d.doc_id for d in out] == ["a.txt:1", "a.txt:4"]


def test_text_paragraphs(tmp_path):
    out = read(tmp_path, "a.txt", "l1\nl2\n\n\nl3\n", text_unit="paragraph")
    assert texts(out) == ["l1\nl2", "l3"]
    assert [d.doc_id for d in out] == ["a.txt:1", "a.txt:5"]


def test_gzip_is_detected_by_magic(tmp_path):
    p = tmp_path / "a.txt.gz"
    with gzip.open(p, "wt") as f:
        f.write("x y z\nw\n")
    out = list(read_file(CorpusSource(name="s", path="a.txt.gz"), p, "a.txt.gz", MAX))
    assert texts(out) == ["x y z", "w"]


def test_bom_and_crlf_are_accepted(tmp_path):
    out = read(tmp_path, "a.txt", b"\xef\xbb\xbffirst\r\nsecond\r\n")
    assert texts(out) == ["first", "second"]


def test_invalid_utf8_and_nul_bytes_are_rejected_by_line(tmp_path):
    out = read(tmp_path, "a.txt", b"ok line\n\xff\xfe broken\nnul\x00inside\nlast\n")
    assert texts(out) == ["ok line", "last"]
    assert reasons(out) == ["invalid_utf8", "nul_bytes"]
    assert [r.doc_id for r in out if isinstance(r, Rejected)] == ["a.txt:2", "a.txt:3"]


def test_a_50mb_line_is_rejected_without_holding_it(tmp_path):
    p = tmp_path / "big.txt"
    with open(p, "wb") as f:
        f.write(b"before\n")
        f.write(b"x" * 50_000_000)
        f.write(b"\nafter\n")
    out = list(read_file(CorpusSource(name="s", path="big.txt"), p, "big.txt", MAX))
    assert texts(out) == ["before", "after"]
    assert reasons(out) == ["too_long"] and out[1].doc_id == "big.txt:2"


def test_jsonl_bad_lines_are_rejected_not_raised(tmp_path):
    lines = [
        json.dumps({"body": "hello", "id": "d1"}),
        '{"body": "truncated',
        json.dumps({"text": "wrong field"}),
        json.dumps({"body": 3}),
        "[1, 2]",
        json.dumps({"body": ""}),
    ]
    out = read(tmp_path, "a.jsonl", "\n".join(lines) + "\n", format="jsonl", text_field="body", id_field="id")
    assert texts(out) == ["hello"] and out[0].doc_id == "a.jsonl:d1"
    assert reasons(out) == ["invalid_json", "missing_field", "missing_field", "missing_field", "missing_field"]
    assert out[1].doc_id == "a.jsonl:2"


def test_json_keyed_records_with_list_fields(tmp_path):
    # The shape of PubMedQA's ori_pqal.json: {pmid: {"CONTEXTS": [...], "LONG_ANSWER": "..."}}
    data = {
        "123": {"CONTEXTS": ["Background text.", "Methods text."], "LONG_ANSWER": "Conclusion."},
        "456": {"QUESTION": "no contexts"},
    }
    out = read(tmp_path, "q.json", json.dumps(data), format="json", text_field=["CONTEXTS", "LONG_ANSWER"])
    assert texts(out) == ["Background text. Methods text. Conclusion."]
    assert out[0].doc_id == "q.json:123" and reasons(out) == ["missing_field"]


def test_json_that_does_not_parse_is_fatal_with_the_path(tmp_path):
    with pytest.raises(ReaderError, match=r"bad\.json"):
        read(tmp_path, "bad.json", "[{", format="json")


def test_csv_by_index_and_by_name(tmp_path):
    rows = [["3", "Wall St. Bears", "Short-sellers are back."], ["4", "Space", ""], ["1", "", ""]]
    p = tmp_path / "n.csv"
    with open(p, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    src = CorpusSource(name="s", path="n.csv", format="csv", header=False, text_field=[1, 2])
    out = list(read_file(src, p, "n.csv", MAX))
    assert texts(out) == ["Wall St. Bears Short-sellers are back.", "Space"]
    assert reasons(out) == ["missing_field"]

    out = read(
        tmp_path,
        "h.tsv",
        "id\tabstract\nA1\tsome text\nA2\t\xe9t\xe9\n",
        format="tsv",
        text_field="abstract",
        id_field="id",
    )
    assert texts(out) == ["some text", "été"] and out[0].doc_id == "h.tsv:A1"


def test_csv_invalid_utf8_row(tmp_path):
    out = read(tmp_path, "b.csv", b"text\nfine\nbad \xff\nfine too\n", format="csv")
    assert texts(out) == ["fine", "fine too"] and reasons(out) == ["invalid_utf8"]


def test_csv_missing_column_fails_up_front(tmp_path):
    (tmp_path / "h.csv").write_text("id,body\n1,x\n")
    with pytest.raises(ReaderError, match=r"h\.csv.*lacks column"):
        check_source(CorpusSource(name="s", path="h.csv", format="csv", text_field="text"), tmp_path)


def test_parquet_streams_rows(tmp_path):
    pq.write_table(
        pa.table({"pmid": ["1", "2", "3"], "text": ["alpha beta", None, "gamma"]}),
        tmp_path / "a.parquet",
        row_group_size=2,
    )
    src = CorpusSource(name="s", path="a.parquet", format="parquet", id_field="pmid")
    out = list(read_source(src, tmp_path, check_source(src, tmp_path), MAX))
    assert texts(out) == ["alpha beta", "gamma"] and [d.doc_id for d in out] == [
        "a.parquet:1",
        "a.parquet:2",
        "a.parquet:3",
    ]
    assert reasons(out) == ["missing_field"]


def test_not_parquet_fails_up_front(tmp_path):
    (tmp_path / "x.parquet").write_text("not parquet")
    with pytest.raises(ReaderError, match=r"x\.parquet"):
        check_source(CorpusSource(name="s", path="x.parquet", format="parquet"), tmp_path)


def test_conll_rebuilds_sentences_from_the_token_column(tmp_path):
    content = "-DOCSTART-\tO\n\nSelegiline\tB-Chemical\n-\tO\ninduced\tO\n\nHypotension\tB-Disease\n.\tO\n"
    out = read(tmp_path, "a.iob", content, format="conll")
    assert texts(out) == ["Selegiline - induced", "Hypotension ."]
    assert out[0].doc_id == "a.iob:3"
    out = read(tmp_path, "b.conll", "x NN B-X\ny NN O\n\nshort\n", format="conll", token_column=0)
    assert texts(out) == ["x y", "short"]
    out = read(tmp_path, "c.conll", "a\tO\nb\tO\n\n", format="conll", token_column=3)
    assert reasons(out) == ["malformed_row"]


PUBMED = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE PubmedArticleSet>
<PubmedArticleSet>
  <PubmedArticle>
    <MedlineCitation Status="MEDLINE" Owner="NLM">
      <PMID Version="1">31452104</PMID>
      <Article PubModel="Print">
        <ArticleTitle>Gefitinib in <i>EGFR</i>-mutant lung cancer.</ArticleTitle>
        <Abstract>
          <AbstractText Label="BACKGROUND">EGFR mutations predict response.</AbstractText>
          <AbstractText Label="RESULTS">Response rate was 71% (CI 60-80).</AbstractText>
        </Abstract>
      </Article>
    </MedlineCitation>
  </PubmedArticle>
  <PubmedArticle>
    <MedlineCitation><PMID Version="1">2</PMID><Article><ArticleTitle></ArticleTitle></Article></MedlineCitation>
  </PubmedArticle>
  <PubmedArticle>
    <MedlineCitation><PMID Version="1">3</PMID><Article><ArticleTitle>Title only.</ArticleTitle></Article>
    </MedlineCitation>
  </PubmedArticle>
</PubmedArticleSet>
"""


def test_pubmed_xml(tmp_path):
    p = tmp_path / "pubmed25n0001.xml.gz"
    with gzip.open(p, "wt") as f:
        f.write(PUBMED)
    src = CorpusSource(name="pm", path="pubmed25n0001.xml.gz", format="pubmed_xml")
    out = list(read_source(src, tmp_path, check_source(src, tmp_path), MAX))
    assert texts(out) == [
        "Gefitinib in EGFR-mutant lung cancer. EGFR mutations predict response. Response rate was 71% (CI 60-80).",
        "Title only.",
    ]
    assert out[0].doc_id == "pubmed25n0001.xml.gz:31452104"
    assert reasons(out) == ["missing_field"] and out[1].doc_id.endswith(":2")


def test_pubmed_truncated_xml_keeps_what_came_before(tmp_path):
    cut = PUBMED[: PUBMED.rindex('<PMID Version="1">3')]
    out = read(tmp_path, "t.xml", cut, format="pubmed_xml")
    assert len(texts(out)) == 1 and reasons(out)[-1] == "malformed_xml"


def test_pubmed_wrong_root_and_not_xml(tmp_path):
    (tmp_path / "n.xml").write_text("plain text\n")
    with pytest.raises(ReaderError, match="not XML"):
        check_source(CorpusSource(name="s", path="n.xml", format="pubmed_xml"), tmp_path)
    with pytest.raises(ReaderError, match="PubmedArticleSet"):
        read(tmp_path, "r.xml", "<html><body/></html>", format="pubmed_xml")


def test_directory_glob_default_and_missing(tmp_path):
    d = tmp_path / "corp"
    (d / "sub").mkdir(parents=True)
    (d / "a.jsonl").write_text(json.dumps({"text": "one"}) + "\n")
    with gzip.open(d / "sub" / "b.jsonl.gz", "wt") as f:
        f.write(json.dumps({"text": "two"}) + "\n")
    (d / "README").write_text("not data")
    src = CorpusSource(name="s", path="corp", format="jsonl")
    files = check_source(src, tmp_path)
    assert [f.name for f in files] == ["a.jsonl", "b.jsonl.gz"]
    assert texts(read_source(src, tmp_path, files, MAX)) == ["one", "two"]
    assert [d.doc_id for d in read_source(src, tmp_path, files, MAX)] == ["corp/a.jsonl:1", "corp/sub/b.jsonl.gz:1"]
    with pytest.raises(ReaderError, match="no files match"):
        check_source(CorpusSource(name="s", path="nowhere"), tmp_path)


def test_hf_dataset_by_name_streams_a_local_dataset(tmp_path):
    # Offline here, so the by-name path is exercised on a local dataset folder (the same load_dataset call).
    d = tmp_path / "hf_local"
    d.mkdir()
    (d / "train.jsonl").write_text("".join(json.dumps({"abstract": f"text {i}"}) + "\n" for i in range(3)))
    src = CorpusSource(name="hub", path=str(d), format="hf", text_field="abstract")
    assert check_source(src, tmp_path) == []
    assert texts(read_source(src, tmp_path, [], MAX)) == ["text 0", "text 1", "text 2"]


def test_real_biomed_file_reads(data_root):
    p = data_root / "biomed_unlabelled" / "pubmedqa" / "abstracts.txt"
    src = CorpusSource(name="pubmedqa", path="biomed_unlabelled/pubmedqa/abstracts.txt")
    docs = list(read_file(src, p, "abstracts.txt", 10**7))
    assert len(docs) == 1000 and all(isinstance(d, Document) for d in docs)  # PROVENANCE.md: 1,000 lines


def test_real_pubmedqa_json_rebuilds_the_abstract_lines(data_root):
    # PROVENANCE.md: abstracts.txt is CONTEXTS + LONG_ANSWER of ori_pqal.json joined by spaces, one per PMID.
    src = CorpusSource(
        name="q", path="biomed_unlabelled/pubmedqa/ori_pqal.json", format="json", text_field=["CONTEXTS", "LONG_ANSWER"]
    )
    docs = texts(read_source(src, data_root, check_source(src, data_root), 10**7))
    lines = (data_root / "biomed_unlabelled" / "pubmedqa" / "abstracts.txt").read_text().splitlines()
    assert len(docs) == 1000 and docs[0] == lines[0]
