"""Why a candidate surfaces in no vacancy's top-k: what the matcher's own data shows.

Everything here reads the matcher's columns and index, so the travel-distance and licence
rules are those of matching itself (:meth:`matching.columns.FilterColumns.vacancy_mask`, the
product's one filter implementation) and the hours rule is the explanation's
(:func:`matching.ranking.hours_fit`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from matching.matcher import Matcher
from matching.ranking import MatchFilters, available_hours, hours_fit

FIT_COUNT = 5
"""How many open vacancies, most similar first, count as the ones that fit a candidate."""

_OPEN = MatchFilters()  # the rematch's default filters: open vacancies of any kind


@dataclass(frozen=True)
class Diagnosis:
    """What the open vacancies look like from one candidate.

    ``in_reach`` counts open vacancies within the candidate's travel distance (a vacancy or
    candidate without a location counts as within it, as in matching); the licence is left out
    there so the two reasons stay apart. ``fitting`` are the ``FIT_COUNT`` most similar (by
    cosine) of those in reach: the vacancies the candidate could take, were it not for the
    licence or the hours. ``need_licence`` and ``other_hours`` count those that ask a driving
    licence the candidate lacks, or weekly hours outside theirs (``hours``: the candidate's
    weekly hours as the ranking's explanation reads them).
    """

    open_vacancies: int
    in_reach: int
    fitting: int
    need_licence: int
    other_hours: int
    hours: tuple[int, int] | None


def diagnose(matcher: Matcher, candidate_id: int, fit_count: int = FIT_COUNT) -> Diagnosis | None:
    """The diagnosis of one indexed candidate (internal id); None when it is not indexed."""
    cand = matcher.candidates.facts.get(candidate_id)
    vec = matcher.candidates.index.reconstruct(candidate_id)
    if cand is None or vec is None:
        return None
    columns = matcher.vacancies.columns
    open_mask = columns.vacancy_mask(cand.side, None, _OPEN)
    with_licence = dataclasses.replace(cand, driving_licence=True)
    reach = columns.vacancy_mask(cand.side, with_licence, _OPEN)
    hits = matcher.vacancies.index.search(vec, fit_count, reach) if reach.any() else []
    fitting = [f for f in (matcher.vacancies.facts.get(i) for i, _ in hits) if f is not None]
    return Diagnosis(
        open_vacancies=int(np.count_nonzero(open_mask)),
        in_reach=int(np.count_nonzero(reach)),
        fitting=len(fitting),
        need_licence=sum(
            1 for v in fitting if v.requires_driving_licence and not cand.driving_licence
        ),
        other_hours=sum(1 for v in fitting if hours_fit(v, cand) is False),
        hours=available_hours(cand),
    )
