"""Reference floors every comparison must clear: the majority class and TF-IDF + logistic regression.

A fine-tuned variant that does not beat a bag-of-words model has not learned the task, and a DAPT-vs-baseline
difference between two such models measures nothing; the report flags it.
"""

from __future__ import annotations

import copy
import json
import time
from collections import Counter
from pathlib import Path

from dapt.metrics import score
from dapt.recipe import TaskConfig
from dapt.tasks import LabelSpace, cut_test, load_split

C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
TOKEN_C_GRID = (0.1, 1.0, 10.0)


def word_features(tokens: list[str], i: int) -> dict[str, object]:
    """Per-token features for the tagging floor: the word, its affixes and shape, and its neighbours."""
    w = tokens[i]
    shape = "".join("X" if c.isupper() else "x" if c.islower() else "d" if c.isdigit() else c for c in w[:6])
    return {
        "w": w.lower(),
        "pre3": w[:3].lower(),
        "suf3": w[-3:].lower(),
        "shape": shape,
        "title": w.istitle(),
        "upper": w.isupper(),
        "digit": any(c.isdigit() for c in w),
        "prev": tokens[i - 1].lower() if i else "<s>",
        "next": tokens[i + 1].lower() if i + 1 < len(tokens) else "</s>",
    }


def compute_token_floors(task: TaskConfig, data_root: Path, out_dir: Path | None = None) -> dict:
    """Tagging floors: ``majority`` (every token ``O``: no spans, so span F1 0) and ``tfidf-lr``'s counterpart for
    tokens, a per-token logistic regression on word features (C chosen on dev span F1). Same result layout as
    :func:`compute_floors`."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    from dapt.metrics import span_f1

    t0 = time.perf_counter()
    splits = {s: load_split(task, s, data_root).examples for s in ("train", "dev", "test")}
    feats = {s: [word_features(e.tokens, i) for e in ex for i in range(len(e.tokens))] for s, ex in splits.items()}
    gold = {s: [e.tags for e in ex] for s, ex in splits.items()}

    def regroup(flat: list[str], ex) -> list[list[str]]:
        out, k = [], 0
        for e in ex:
            out.append(list(flat[k : k + len(e.tokens)]))
            k += len(e.tokens)
        return out

    all_o = {s: [["O"] * len(t) for t in g] for s, g in gold.items()}
    majority = {
        "metric": task.metric,
        "test": span_f1(all_o["test"], gold["test"], task.tag_scheme),
        "dev": span_f1(all_o["dev"], gold["dev"], task.tag_scheme),
        "label": "O",
    }
    vec = DictVectorizer()
    x = {"train": vec.fit_transform(feats["train"])}
    x["dev"], x["test"] = vec.transform(feats["dev"]), vec.transform(feats["test"])
    y_train = [t for tags in gold["train"] for t in tags]
    sweep, best = [], None
    clf = LogisticRegression(max_iter=2000, warm_start=True)
    for c in TOKEN_C_GRID:
        clf.set_params(C=c)
        clf.fit(x["train"], y_train)
        dev = span_f1(regroup(clf.predict(x["dev"]).tolist(), splits["dev"]), gold["dev"], task.tag_scheme)
        sweep.append({"C": c, "dev": dev})
        if best is None or dev > best[1]:
            best = (copy.deepcopy(clf), dev, c)
    clf, dev, c = best
    test = span_f1(regroup(clf.predict(x["test"]).tolist(), splits["test"]), gold["test"], task.tag_scheme)
    floors = {
        "majority": majority,
        "tfidf-lr": {
            "metric": task.metric,
            "test": test,
            "dev": dev,
            "C": c,
            "dev_sweep": sweep,
            "model": "per-token logistic regression on word features",
        },
        "seconds": round(time.perf_counter() - t0, 2),
    }
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / f"{task.name}.json").write_text(json.dumps(floors, indent=2))
    return floors


def compute_floors(
    task: TaskConfig, data_root: Path, out_dir: Path | None = None, max_test_examples: int | None = None
) -> dict:
    """Score ``majority`` and ``tfidf-lr`` (word 1-2 grams, C chosen on dev) on the task's test split
    (``max_test_examples``: on the transfer table's stratified test subset, the examples every mode is scored on).

    Returns:
        ``{"majority": {...}, "tfidf-lr": {...}}``, each with the metric, the test score and how it was chosen;
        also written to ``out_dir/<task>.json`` when ``out_dir`` is given.
    """
    if task.is_tagging:
        return compute_token_floors(task, data_root, out_dir)
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    t0 = time.perf_counter()
    loaded = {s: load_split(task, s, data_root) for s in ("train", "dev", "test")}
    test_total = cut_test(loaded["test"], max_test_examples)
    splits = {s: data.examples for s, data in loaded.items()}
    space = LabelSpace.from_train([e.label for e in splits["train"]])
    y = {s: [space.encode(e.label) for e in ex] for s, ex in splits.items()}
    # The same input the fine-tuned models get: the text, plus its context where the task gives one.
    text = {s: [f"{e.text} {e.context}".strip() for e in ex] for s, ex in splits.items()}

    majority_label = Counter(y["train"]).most_common(1)[0][0]
    majority = {
        "metric": task.metric,
        "test": score(task.metric, [majority_label] * len(y["test"]), y["test"]),
        "dev": score(task.metric, [majority_label] * len(y["dev"]), y["dev"]),
        "label": space.name(majority_label),
    }

    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    x_train = vec.fit_transform(text["train"])
    x_dev, x_test = vec.transform(text["dev"]), vec.transform(text["test"])
    sweep = []
    best = None
    # Ascending C with warm starts: each fit starts from the previous solution (3-5x faster than cold fits).
    clf = LogisticRegression(max_iter=3000, warm_start=True)
    for c in C_GRID:
        clf.set_params(C=c)
        clf.fit(x_train, y["train"])
        dev = score(task.metric, clf.predict(x_dev).tolist(), y["dev"])
        sweep.append({"C": c, "dev": dev})
        if best is None or dev > best[1]:
            best = (copy.deepcopy(clf), dev, c)
    clf, dev, c = best
    tfidf = {
        "metric": task.metric,
        "test": score(task.metric, clf.predict(x_test).tolist(), y["test"]),
        "dev": dev,
        "C": c,
        "dev_sweep": sweep,
    }
    floors = {
        "majority": majority,
        "tfidf-lr": tfidf,
        "test_examples": len(splits["test"]),
        "test_examples_total": test_total,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / f"{task.name}.json").write_text(json.dumps(floors, indent=2))
    return floors
