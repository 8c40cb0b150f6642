"""What a complete profile is: the fields matching needs, and which of them a candidate lacks.

One notion for every report that speaks of missing fields (the completeness report, the report
of candidates nobody finds, the page).
"""

from __future__ import annotations

from typing import Literal, get_args

from service.store.models import Candidate

Missing = Literal["desired_occupation", "hours", "location", "ladder_step"]
FIELDS: tuple[Missing, ...] = get_args(Missing)


def missing_fields(row: Candidate) -> list[Missing]:
    """The fields matching needs that ``row`` lacks, in ``FIELDS`` order."""
    out: list[Missing] = []
    if not row.desired_occupations:
        out.append("desired_occupation")
    if row.hours_per_week_min is None and row.hours_per_week_max is None:
        out.append("hours")
    if not row.postcode and (row.lat is None or row.lon is None):
        out.append("location")
    if row.participation_ladder_step is None:
        out.append("ladder_step")
    return out
