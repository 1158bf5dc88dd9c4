"""PubMed / MEDLINE XML (``PubmedArticleSet``), the form in which biomedical text is distributed (the annual
baseline and daily update files, ``pubmed25n0001.xml.gz``...). Streamed with ``iterparse``: each article is
cleared once read, so memory does not grow with the file."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from dapt.ingest.readers.raw_lines import open_binary
from dapt.ingest.readers.records import Document, ReaderError, Rejected


def _text(elem: ET.Element | None) -> str:
    # itertext: titles and abstracts carry inline markup (<i>, <sup>, <sub>) whose text belongs to the sentence.
    return " ".join("".join(elem.itertext()).split()) if elem is not None else ""


def read_pubmed_xml(path: Path, source: str, rel: str, max_bytes: int) -> Iterator[Document | Rejected]:
    """One document per ``PubmedArticle``: title, then the abstract sections in order; the id is the PMID.
    Articles without any text are rejected as ``missing_field``; a parse error rejects the rest of the file (XML
    cannot be resynchronised) and names the line."""
    with open_binary(path) as f:
        context = ET.iterparse(f, events=("start", "end"))
        root = None
        n = 0
        try:
            for event, elem in context:
                if root is None and event == "start":
                    root = elem
                    if elem.tag != "PubmedArticleSet":
                        raise ReaderError(f"{path}: root element is <{elem.tag}>, expected <PubmedArticleSet>")
                if event != "end" or elem.tag != "PubmedArticle":
                    continue
                n += 1
                pmid = (elem.findtext("MedlineCitation/PMID") or "").strip() or f"article{n}"
                title = _text(elem.find("MedlineCitation/Article/ArticleTitle"))
                sections = [_text(a) for a in elem.iterfind("MedlineCitation/Article/Abstract/AbstractText")]
                text = " ".join(p for p in [title, *sections] if p)
                doc_id = f"{rel}:{pmid}"
                if not text:
                    yield Rejected(source, doc_id, "missing_field", "no ArticleTitle or AbstractText")
                elif len(text.encode()) > max_bytes:
                    yield Rejected(source, doc_id, "too_long", f"article longer than {max_bytes:,} bytes")
                else:
                    yield Document(source, doc_id, text)
                elem.clear()
                root.clear()  # drop the references the root keeps to finished articles
        except ET.ParseError as e:
            yield Rejected(source, f"{rel}:line{e.position[0]}", "malformed_xml", f"{e} (rest of the file skipped)")


def check_pubmed_xml(path: Path) -> None:
    with open_binary(path) as f:
        head = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        raise ReaderError(f"{path}: not XML (format pubmed_xml expects a PubmedArticleSet file)")
