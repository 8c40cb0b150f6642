"""Ranking metrics with their standard definitions, on one ranked list at a time.

``ranked`` is the system's result list, best first; ``relevance`` maps a target to its graded
relevance (absent or 0 = not relevant). Each function returns the value for one query; average
over queries for the data set's figure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["accuracy_at_1", "mean", "ndcg_at_k", "recall_at_k", "reciprocal_rank"]


def reciprocal_rank(ranked: Sequence[str], relevance: Mapping[str, int]) -> float:
    """1 / rank of the first relevant item (ranks start at 1); 0 when none is ranked."""
    for i, item in enumerate(ranked, start=1):
        if relevance.get(item, 0) > 0:
            return 1.0 / i
    return 0.0


def accuracy_at_1(ranked: Sequence[str], relevance: Mapping[str, int]) -> float:
    """1 when the first item is relevant, else 0."""
    return 1.0 if ranked and relevance.get(ranked[0], 0) > 0 else 0.0


def recall_at_k(ranked: Sequence[str], relevance: Mapping[str, int], k: int) -> float:
    """Relevant items in the top ``k`` / all relevant items (0 when nothing is relevant)."""
    relevant = {item for item, rel in relevance.items() if rel > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def ndcg_at_k(ranked: Sequence[str], relevance: Mapping[str, int], k: int) -> float:
    """nDCG@k with gain 2^rel − 1 and discount log2(rank + 1); 0 when nothing is relevant."""

    def dcg(rels: Sequence[int]) -> float:
        return float(sum((2**rel - 1) / math.log2(i + 2) for i, rel in enumerate(rels[:k])))

    ideal = dcg(sorted((r for r in relevance.values() if r > 0), reverse=True))
    if ideal == 0:
        return 0.0
    return dcg([relevance.get(item, 0) for item in ranked]) / ideal


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean; 0 for no values."""
    return sum(values) / len(values) if values else 0.0
