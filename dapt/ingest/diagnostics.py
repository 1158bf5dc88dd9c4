r"""Domain diagnostics: the numbers that say whether DAPT is worth the GPU hours before any are spent.

- Tokenizer fertility (subword tokens per word unit: a ``\w+`` word or a punctuation mark, so that PTB-tokenized
  and raw text count alike) of the base model's tokenizer on each corpus and task:
  a tokenizer that shatters domain words (fertility well above its general-text value) is a sign the model has
  seen little of the domain.
- Vocabulary overlap as in the DAPT paper (Gururangan et al., 2020, Fig. 2): the share of the top-10k unigrams
  (stopwords excluded) two texts have in common.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import islice

from dapt.ingest.word_ids import punctuation_marks, words

TOP_K = 10_000


def stopwords() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def fertility(tokenizer, texts: Iterable[str], batch: int = 1024) -> float:
    r"""Subword tokens per word unit (``\w+`` word or punctuation mark) over ``texts``."""
    tokens = n_words = 0
    it = iter(texts)
    while chunk := list(islice(it, batch)):
        tokens += sum(len(x) for x in tokenizer(chunk, add_special_tokens=False)["input_ids"])
        n_words += sum(len(words(t)) + punctuation_marks(t) for t in chunk)
    return tokens / max(1, n_words)


def top_words(texts: Iterable[str], k: int = TOP_K) -> list[str]:
    stop = stopwords()
    counts = Counter(w for t in texts for w in words(t) if w not in stop)
    # Ties broken alphabetically so the set does not depend on reading order.
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]


def overlap(a: list[str], b: list[str]) -> float:
    """Shared words as a share of the smaller list (of ``k`` each when both texts are large enough)."""
    if not a or not b:
        return 0.0
    return len(set(a) & set(b)) / min(len(a), len(b))


def overlap_matrix(tops: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    return {x: {y: round(overlap(tops[x], tops[y]), 4) for y in tops} for x in tops}


def domain_diagnostics(
    corpora: dict, tasks, data_root, tokenizer, top_k: int = TOP_K, tokenizer_name: str | None = None
) -> dict:
    """Fertility and vocabulary overlap across the ingested corpora (``{"domain": dir, "general": dir}``, each an
    ingest output folder) and the recipe's tasks (train + dev + test text for the vocabulary, train text for
    fertility)."""
    import json
    from pathlib import Path

    from dapt.ingest.decontaminate import task_texts

    fert, tops = {}, {}
    for name, d in corpora.items():
        d = Path(d)
        fert[name] = json.loads((d / "stats.json").read_text())["fertility"]
        tops[name] = json.loads((d / "top_words.json").read_text())[:top_k]
    for t in tasks:
        splits = {s: task_texts(t, s, data_root) for s in ("train", "dev", "test")}
        fert[t.name] = round(fertility(tokenizer, splits["train"]), 4)
        tops[t.name] = top_words((x for texts in splits.values() for x in texts), top_k)
    return {
        "tokenizer": tokenizer_name or getattr(tokenizer, "name_or_path", type(tokenizer).__name__),
        "fertility": fert,
        "top_k": top_k,
        "vocab_sizes": {k: len(v) for k, v in tops.items()},
        "vocab_overlap": overlap_matrix(tops),
    }


def diagnostics_markdown(diag: dict) -> list[str]:
    """The fertility and vocabulary-overlap tables, as Markdown lines (data cards and the report)."""
    out = ["| text | tokenizer fertility (tokens per word unit) |", "|---|---:|"]
    out += [f"| {k} | {v:.3f} |" for k, v in diag["fertility"].items()]
    names = list(diag["vocab_overlap"])
    out += [
        "",
        f"Vocabulary overlap (share of the top-{diag['top_k']:,} non-stopword words in common):",
        "",
        "| | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for a in names:
        out.append(f"| {a} | " + " | ".join(f"{diag['vocab_overlap'][a][b]:.1%}" for b in names) + " |")
    return out
