"""CoNLL files built for the tests: biomedical-style sentences with GENE and CHEM mentions in BIO or BIOES."""

from __future__ import annotations

import random
from pathlib import Path

GENES = ["BRCA1", "TP53", "EGFR", "tumor necrosis factor", "interleukin 6", "p21", "cyclin D1", "MAPK"]
CHEMS = ["gefitinib", "aspirin", "nitric oxide", "cisplatin", "retinoic acid", "erlotinib", "glucose"]
FRAMES = [
    "Treatment with {c} reduced {g} expression in cells .",
    "{g} was strongly induced by {c} .",
    "We observed that {c} inhibits {g} activity in vitro .",
    "Expression of {g} did not change after {c} exposure .",
    "The {g} promoter responds to {c} in a dose dependent manner .",
]


def _tags(n: int, kind: str, scheme: str) -> list[str]:
    if scheme == "BIOES":
        return [f"S-{kind}"] if n == 1 else [f"B-{kind}"] + [f"I-{kind}"] * (n - 2) + [f"E-{kind}"]
    return [f"B-{kind}"] + [f"I-{kind}"] * (n - 1)


def make_sentence(rng: random.Random, scheme: str) -> list[tuple[str, str]]:
    frame = rng.choice(FRAMES)
    g, c = rng.choice(GENES), rng.choice(CHEMS)
    out = []
    for piece in frame.split():
        if piece == "{g}":
            out += list(zip(g.split(), _tags(len(g.split()), "GENE", scheme), strict=True))
        elif piece == "{c}":
            out += list(zip(c.split(), _tags(len(c.split()), "CHEM", scheme), strict=True))
        else:
            out.append((piece, "O"))
    return out


def write_conll(root: Path, scheme: str = "BIO", sizes=(200, 60, 60), seed: int = 0) -> None:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    for split, n in zip(("train", "dev", "test"), sizes, strict=True):
        lines = ["-DOCSTART-\tO", ""]
        for _ in range(n):
            lines += [f"{tok}\tNN\t{tag}" for tok, tag in make_sentence(rng, scheme)] + [""]
        (root / f"{split}.tsv").write_text("\n".join(lines) + "\n")
