"""The per-row reference of the ranking: hard filters and the hybrid score one pair at a time.

This is the scorer the product had before the columnar core (:mod:`matching.columns` for the
filters, :mod:`matching.rerank` for the scores). It is kept here, outside the product, as the
test oracle: the equality tests (tests/matching/test_columnar_ranking.py, test_columns.py,
test_rematch_core.py) check that the columnar code gives the same masks, scores (within 1e-6)
and order on thousands of random rows and filters. The evidence behind an explanation
(shared terms, matching titles, ESCO links, focus occupations) is the product's own
(:func:`matching.ranking.explained` and its helpers), shared with this oracle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matching.profiles import CandidateFacts, Side, VacancyFacts
from matching.ranking import (
    Calibration,
    MatchFilters,
    Scored,
    _esco,
    _lexical,
    _occupation,
    distance_between,
    explained,
    shared_focus,
)


def _common_filters(query: Side, result: Side, filters: MatchFilters) -> bool:
    if filters.max_distance_km is not None:
        d = distance_between(query, result)
        if d is None or d > filters.max_distance_km:
            return False
    return not (filters.focus_only and shared_focus(query, result) is None)


def candidate_passes(
    query: Side, vacancy: VacancyFacts | None, cand: CandidateFacts, filters: MatchFilters
) -> bool:
    """Whether a candidate may appear in results for ``query`` (a vacancy or free text)."""
    if not cand.active:
        return False
    if filters.only_candidates is not None and cand.id not in filters.only_candidates:
        return False
    if filters.ladder_step_min is not None and (
        cand.ladder_step is None or cand.ladder_step < filters.ladder_step_min
    ):
        return False
    if filters.client_groups and cand.client_group not in filters.client_groups:
        return False
    if vacancy is not None and vacancy.requires_driving_licence and not cand.driving_licence:
        return False
    if cand.max_travel_km is not None:
        d = distance_between(query, cand.side)
        if d is not None and d > cand.max_travel_km:
            return False
    return _common_filters(query, cand.side, filters)


def vacancy_passes(
    query: Side, cand: CandidateFacts | None, vac: VacancyFacts, filters: MatchFilters
) -> bool:
    """Whether a vacancy may appear in results for ``query`` (a candidate or free text)."""
    if vac.status != "open" and not filters.include_closed:
        return False
    if filters.kinds and vac.kind not in filters.kinds:
        return False
    if cand is not None:
        if vac.requires_driving_licence and not cand.driving_licence:
            return False
        if cand.max_travel_km is not None:
            d = distance_between(query, vac.side)
            if d is not None and d > cand.max_travel_km:
                return False
    return _common_filters(query, vac.side, filters)


def _signals(
    vacancy_side: Side,
    cand_side: Side,
    cosine: float,
    query_is_vacancy: bool,
    calibration: Calibration,
) -> Any:
    """The three signals of a pair and the evidence behind them (shared by score and explain)."""
    semantic = float(calibration.semantic(cosine))
    lexical, shared = _lexical(vacancy_side, cand_side)
    occupation, v_title, c_title = _occupation(vacancy_side, cand_side)
    esco, esco_line = _esco(vacancy_side, cand_side)
    occupation = max(occupation, esco)
    query, result = (vacancy_side, cand_side) if query_is_vacancy else (cand_side, vacancy_side)
    focus = shared_focus(query, result)
    both_focus = focus is not None and focus.slug in {h.slug for h in query.focus}
    if both_focus and focus is not None and focus.score > occupation:
        occupation = focus.score
    return (
        semantic, lexical, occupation, shared, v_title, c_title, focus, both_focus, esco, esco_line
    )  # fmt: skip


def score_only(
    *,
    vacancy_side: Side,
    cand_side: Side,
    cosine: float,
    query_is_vacancy: bool,
    calibration: Calibration,
) -> Scored:
    """:func:`score_pair` without the explanation (same score and parts), for batch ranking
    where the reasons are rebuilt only for the matches someone reads."""
    semantic, lexical, occupation, *_ = _signals(
        vacancy_side, cand_side, cosine, query_is_vacancy, calibration
    )
    signals = {"semantic": semantic, "lexical": lexical, "occupation": occupation}
    weights = calibration.weights
    return Scored(
        score=round(sum(weights[k] * v for k, v in signals.items()), 4),
        parts={k: round(weights[k] * v, 4) for k, v in signals.items()},
        signals=signals,
        explanation=[],
    )


def score_pair(
    *,
    vacancy_side: Side,
    cand_side: Side,
    cosine: float,
    query_is_vacancy: bool,
    calibration: Calibration,
    vacancy: VacancyFacts | None = None,
    cand: CandidateFacts | None = None,
) -> Scored:
    """Score one (vacancy, candidate) pair and explain it in plain Dutch (reference scorer).

    Args:
        vacancy_side, cand_side: the two sides (a free-text query fills one of them).
        cosine: cosine similarity of their vectors.
        query_is_vacancy: which side asked, for choosing the focus occupation to report.
        calibration: weights and semantic floor of the model the cosine comes from.
        vacancy, cand: the full facts when known, for hours, licence and language lines.
    """
    semantic, lexical, occupation, *_ = _signals(
        vacancy_side, cand_side, cosine, query_is_vacancy, calibration
    )
    signals = {"semantic": semantic, "lexical": lexical, "occupation": occupation}
    return explained(
        signals,
        score=round(sum(calibration.weights[k] * v for k, v in signals.items()), 4),
        vacancy_side=vacancy_side,
        cand_side=cand_side,
        query_is_vacancy=query_is_vacancy,
        calibration=calibration,
        vacancy=vacancy,
        cand=cand,
    )


def rank(
    scored: Sequence[tuple[int, Scored]], limit: int, min_score: float | None
) -> list[tuple[int, Scored]]:
    """Best first (ties by id for a stable order), at most ``limit``, at least ``min_score``."""
    kept = [(i, s) for i, s in scored if min_score is None or s.score >= min_score]
    kept.sort(key=lambda pair: (-pair[1].score, pair[0]))
    return kept[:limit]
