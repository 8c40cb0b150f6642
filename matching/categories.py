"""The categorical values of profiles and vacancies, defined once.

Each is a ``Literal`` type (the API's schemas and the type checker read it) and the tuple of its
values in a fixed order (the filter columns store an index into that tuple).
"""

from __future__ import annotations

from typing import Literal, get_args

ClientGroup = Literal["matchen", "groeien", "faciliteren", "zorgen"]
"""The job seeker's client group in the municipality's segmentation (distance to work)."""
BenefitType = Literal["ww", "participatiewet", "wajong", "wia", "none"]
EducationLevel = Literal[
    "basisonderwijs", "vmbo", "mbo1", "mbo2", "mbo3", "mbo4", "havo", "vwo", "hbo", "wo"
]
VacancyKind = Literal["regular", "work_experience", "volunteer", "learn_work"]
VacancyStatus = Literal["open", "closed", "filled"]
EmploymentType = Literal[
    "FULL_TIME", "PART_TIME", "CONTRACTOR", "TEMPORARY", "INTERN", "VOLUNTEER", "PER_DIEM", "OTHER"
]

LADDER_STEP_MIN, LADDER_STEP_MAX = 1, 6
"""The participation ladder's lowest and highest step (1: isolated, 6: paid work)."""

CLIENT_GROUPS: tuple[ClientGroup, ...] = get_args(ClientGroup)
VACANCY_KINDS: tuple[VacancyKind, ...] = get_args(VacancyKind)
