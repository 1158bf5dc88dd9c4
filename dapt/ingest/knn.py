"""kNN-TAPT data selection (Gururangan et al. 2020, section 5): the domain documents nearest to a task's train
text by sentence embedding, added to its TAPT corpus.

Embeddings are mean-pooled, L2-normalised hidden states of a sentence-embedding model (all-MiniLM-L6-v2 is one),
so the dot product is the cosine similarity. The domain corpus's embeddings are computed once and cached beside it
(float16), keyed by the model.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from dapt.ingest.documents import iter_documents

log = logging.getLogger(__name__)


@torch.no_grad()
def embed(
    texts: list[str], model_dir: Path, batch_size: int = 128, max_length: int = 128, progress: bool = False
) -> np.ndarray:
    """``len(texts) x hidden`` float32, unit-norm rows. Texts are sorted by length for batching (less padding)
    and the rows returned in the input order."""
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    order = np.argsort([len(t) for t in texts], kind="stable")
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    for i in tqdm(range(0, len(texts), batch_size), desc="embed", disable=not progress, mininterval=5):
        idx = order[i : i + batch_size]
        enc = tok([texts[j] for j in idx], padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        hidden = model(**enc).last_hidden_state
        m = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1)
        out[idx] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
    return out


def read_documents(corpus_dir: Path) -> list[dict]:
    """The candidates: the corpus's training documents (held-out ones never enter a TAPT corpus)."""
    return list(iter_documents(corpus_dir))


def domain_embeddings(corpus_dir: Path, model_dir: Path, texts: list[str], progress: bool = False) -> np.ndarray:
    key = hashlib.sha256(str(Path(model_dir).resolve()).encode()).hexdigest()[:12]
    cache = corpus_dir / f"embeddings-{key}.npy"
    if cache.is_file():
        emb = np.load(cache)
        if len(emb) == len(texts):
            return emb.astype(np.float32)
    emb = embed(texts, model_dir, progress=progress)
    np.save(cache, emb.astype(np.float16))
    return emb


def nearest(domain: np.ndarray, queries: np.ndarray, k: int, chunk: int = 1024) -> np.ndarray:
    """Indices of the ``k`` nearest domain rows for each query (cosine), as one sorted array without repeats."""
    picked: set[int] = set()
    for i in range(0, len(queries), chunk):
        sims = queries[i : i + chunk] @ domain.T
        k_eff = min(k, domain.shape[0])
        top = np.argpartition(-sims, k_eff - 1, axis=1)[:, :k_eff]
        picked.update(top.ravel().tolist())
    return np.array(sorted(picked), dtype=np.int64)


def select_neighbours(corpus_dir: Path, task, data_root: Path, model_dir: Path, k: int, out_dir: Path) -> Path:
    """Write ``out_dir/knn_selected.jsonl``: the domain documents nearest to the task's train text."""
    from dapt.ingest.decontaminate import task_texts

    docs = read_documents(corpus_dir)
    texts = [d["text"] for d in docs]
    domain = domain_embeddings(corpus_dir, model_dir, texts)
    queries = embed(task_texts(task, "train", data_root), model_dir)
    idx = nearest(domain, queries, k)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "knn_selected.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for i in idx:
            f.write(json.dumps({"text": docs[i]["text"], "id": docs[i]["id"]}, ensure_ascii=False) + "\n")
    log.info("knn-tapt %s: %d domain documents selected (%d per train example)", task.name, len(idx), k)
    return path
