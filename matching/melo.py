"""Evaluate the occupation normaliser on a MELO-format folder (concept level).

A MELO folder (Retyk et al., *MELO: An Evaluation Benchmark for Multilingual Entity Linking of
Occupations*, RecSys in HR 2024) holds ``queries.tsv`` (id, title), ``corpus_elements.tsv``
(element id, surface form), ``annotations.tsv`` (TREC qrels: query, 0, element, 1) and
``concept_mapping.tsv`` (element id, ESCO URI). The corpus elements are the labels of ESCO
concepts (occupations and ISCO groups); element ``C001736_nl_000`` is the first (preferred)
label of its concept. Every query has exactly one relevant concept: the URI its annotated
elements map to.

The normaliser is built over the corpus elements grouped by URI and ranks *concepts*; the
metrics are accuracy@1, MRR and recall@10 of the relevant concept. A query's part is
``tuning`` or ``test`` by a fixed hash of its id, so weights can be chosen on one half and
reported on the other.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matching.embedder import Encoder
from matching.occupation_adapter import OccupationAdapter
from matching.occupations import (
    FusedNormalizer,
    FusionWeights,
    NormalizerWeights,
    OccupationConcept,
    OccupationNormalizer,
    fusion_labels,
)

__all__ = [
    "MeloSet",
    "dense_scores",
    "evaluate",
    "fused_scores",
    "isco_accuracy",
    "label_vectors",
    "load_melo",
    "query_part",
    "threshold_curve",
    "threshold_for_precision",
]

_LABEL_VECTORS: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}
REQUIRED_FILES = ("queries.tsv", "corpus_elements.tsv", "annotations.tsv", "concept_mapping.tsv")


@dataclass(frozen=True)
class MeloSet:
    name: str
    queries: list[tuple[str, str]]  # (query id, title)
    gold: dict[str, str]  # query id -> concept URI
    concepts: list[OccupationConcept]


def _rows(path: Path, columns: int) -> list[list[str]]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) < columns:
            raise ValueError(f"{path.name} line {n}: expected {columns} tab-separated columns")
        rows.append(cells)
    return rows


def load_melo(folder: Path) -> MeloSet:
    """Read a MELO folder.

    Raises:
        ValueError: a file is missing or malformed, or an annotation names an unknown element.
    """
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    if missing:
        raise ValueError(f"{folder} is not a MELO folder: missing {', '.join(missing)}")
    mapping = {e: uri for e, uri, *_ in _rows(folder / "concept_mapping.tsv", 2)}
    labels: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for element, surface, *_ in _rows(folder / "corpus_elements.tsv", 2):
        if element not in mapping:
            raise ValueError(f"corpus element {element} has no concept in concept_mapping.tsv")
        labels[mapping[element]].append((element, surface.strip()))
    concepts = []
    for uri, elements in labels.items():
        ordered = [s for _, s in sorted(elements)]
        is_group = "/isco/" in uri
        code = uri.rsplit("/C", 1)[-1] if is_group else None
        concepts.append(OccupationConcept(uri, ordered[0], tuple(ordered), code, is_group))
    gold: dict[str, str] = {}
    for query_id, _, element, rel, *_ in _rows(folder / "annotations.tsv", 4):
        if int(rel) <= 0:
            continue
        if element not in mapping:
            raise ValueError(f"annotation of {query_id} names unknown element {element}")
        gold[query_id] = mapping[element]
    queries = [(q, t.strip()) for q, t, *_ in _rows(folder / "queries.tsv", 2) if q in gold]
    return MeloSet(folder.name, queries, gold, concepts)


def query_part(query_id: str) -> str:
    """``tuning`` or ``test``: a fixed split of the queries by a hash of their id."""
    digest = hashlib.sha256(query_id.encode("utf-8")).digest()
    return "tuning" if digest[0] % 2 == 0 else "test"


def _metrics(ranks: np.ndarray) -> dict[str, float | int]:
    if len(ranks) == 0:
        return {"queries": 0, "accuracy@1": 0.0, "mrr": 0.0, "recall@10": 0.0}
    return {
        "queries": len(ranks),
        "accuracy@1": round(float((ranks == 1).mean()), 4),
        "mrr": round(float((1.0 / ranks).mean()), 4),
        "recall@10": round(float((ranks <= 10).mean()), 4),
    }


def label_vectors(data: MeloSet, encoder: Encoder) -> np.ndarray:
    """float32 (labels × dim) vectors of ``fusion_labels(data.concepts)``, embedded once per
    model and label list (MELO sets of one language share their corpus)."""
    labels, _ = fusion_labels(data.concepts)
    key = (encoder.model_id, tuple(labels))
    if key not in _LABEL_VECTORS:
        _LABEL_VECTORS.clear()
        _LABEL_VECTORS[key] = encoder.embed(labels).vectors
    return _LABEL_VECTORS[key]


def _fused(
    data: MeloSet,
    encoder: Encoder,
    fusion: FusionWeights | None,
    adapter: OccupationAdapter | None = None,
) -> FusedNormalizer:
    normalizer = OccupationNormalizer(data.concepts)
    return FusedNormalizer(normalizer, encoder, label_vectors(data, encoder), fusion, adapter)


def dense_scores(
    data: MeloSet, encoder: Encoder, adapter: OccupationAdapter | None = None
) -> np.ndarray:
    """(queries × concepts) cosine of a query's vector and its nearest label of each concept.

    Titles and labels are embedded alike (the encoder's one role for every text; for e5 that is
    ``query: ``, the prefix of symmetric tasks).
    """
    return _fused(data, encoder, None, adapter).dense_scores([t for _, t in data.queries])


def fused_scores(
    data: MeloSet,
    encoder: Encoder,
    fusion: FusionWeights | None = None,
    adapter: OccupationAdapter | None = None,
) -> np.ndarray:
    """(queries × concepts) scores of the string normaliser fused with ``dense_scores``: the
    service's own :class:`matching.occupations.FusedNormalizer` over the MELO labels (with
    ``adapter`` on both vectors when given)."""
    return _fused(data, encoder, fusion, adapter).concept_scores([t for _, t in data.queries])


def evaluate(
    data: MeloSet, weights: NormalizerWeights | None = None, scores: np.ndarray | None = None
) -> dict[str, object]:
    """Concept-level accuracy@1, MRR and recall@10, on all queries and per part.

    ``scores`` (queries × concepts, e.g. ``dense_scores``) replaces the normaliser's scores.
    A concept's rank counts the concepts that score strictly higher plus those that tie with it
    and come earlier in the concept order (the normaliser's own tie order).
    """
    index = {c.uri: i for i, c in enumerate(data.concepts)}
    if scores is None:
        normalizer = OccupationNormalizer(data.concepts, weights)
        scores = normalizer.concept_scores([title for _, title in data.queries])
    gold_idx = np.array([index[data.gold[q]] for q, _ in data.queries])
    gold_score = scores[np.arange(len(gold_idx)), gold_idx]
    higher = (scores > gold_score[:, None]).sum(axis=1)
    columns = np.arange(scores.shape[1])[None, :]
    tied_before = ((scores == gold_score[:, None]) & (columns < gold_idx[:, None])).sum(axis=1)
    ranks = (higher + tied_before + 1).astype(float)
    parts = np.array([query_part(q) for q, _ in data.queries])
    return {
        "dataset": data.name,
        "concepts": len(data.concepts),
        **_metrics(ranks),
        "by_part": {p: _metrics(ranks[parts == p]) for p in ("tuning", "test")},
    }


def threshold_curve(
    data: MeloSet, scores: np.ndarray, thresholds: Sequence[float], part: str | None = "tuning"
) -> list[dict[str, float]]:
    """Per threshold t, how the top-1 concept does when it is used only at a score ≥ t (scores
    clipped to [0, 1] as the normalisers answer them; ties: the earliest concept): ``precision``
    (right among those answered; 0 when none is), ``answered`` (share of the queries answered)
    and ``recall`` (share of the queries answered right). ``part``: the queries of one part
    (``query_part``), None: all."""
    index = {c.uri: i for i, c in enumerate(data.concepts)}
    keep = np.array([part is None or query_part(q) == part for q, _ in data.queries], bool)
    gold = np.array([index[data.gold[q]] for q, _ in data.queries])[keep]
    top = scores[keep].argmax(axis=1)
    score = np.clip(scores[keep][np.arange(len(top)), top], 0.0, 1.0)
    right = top == gold
    curve = []
    for t in thresholds:
        answered = score >= t
        n = int(answered.sum())
        curve.append(
            {
                "threshold": float(t),
                "precision": float(right[answered].mean()) if n else 0.0,
                "answered": float(answered.mean()) if len(top) else 0.0,
                "recall": float((right & answered).mean()) if len(top) else 0.0,
            }
        )
    return curve


def threshold_for_precision(curve: Sequence[dict[str, float]], precision: float) -> float | None:
    """The lowest threshold of ``curve`` (``threshold_curve``) whose precision reaches
    ``precision`` (None: none does). How the fused normaliser's thresholds were re-chosen: the
    precision each had with the string normaliser's scores, kept for the fused ones."""
    reached = [p["threshold"] for p in curve if p["precision"] >= precision]
    return min(reached) if reached else None


def isco_accuracy(
    data: MeloSet, scores: np.ndarray, isco: Mapping[str, str], part: str | None = None
) -> tuple[float, int]:
    """How often the top-1 concept (the earliest on a tie) is in the gold concept's ISCO-08 unit
    group, over the queries whose gold group is known: (accuracy, queries counted).

    A concept's group is its own code for an ISCO group concept of four digits, else
    ``isco[uri]`` (an ESCO occupation's ``iscoGroup``); a concept of no known group is never
    right. ``part``: one part's queries (``query_part``), None: all."""

    def group(c: OccupationConcept) -> str | None:
        if c.is_group:
            return c.isco_code if c.isco_code and len(c.isco_code) == 4 else None
        return isco.get(c.uri)

    groups = [group(c) for c in data.concepts]
    by_uri = {c.uri: g for c, g in zip(data.concepts, groups, strict=True)}
    top = scores.argmax(axis=1)
    right = counted = 0
    for (query, _), t in zip(data.queries, top, strict=True):
        gold = by_uri.get(data.gold[query])
        if gold is None or (part is not None and query_part(query) != part):
            continue
        counted += 1
        right += groups[t] == gold
    return (right / counted if counted else 0.0), counted
