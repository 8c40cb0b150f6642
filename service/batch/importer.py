"""Bulk import of candidates and vacancies from JSON-lines files, through the API's validation.

Each line is one object: the PUT body plus ``external_id`` (and ``employer_id`` for vacancies).
A vacancy line may also be a schema.org JobPosting (``"@type": "JobPosting"``): its
``identifier`` is the vacancy id and the employer is ``--employer-id`` or
``hiringOrganization.identifier``.
Valid lines are written in batches (one transaction and one embedding call per batch); invalid
lines are rejected with their line number and the field at fault, and never half-written.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from matching.embedder import Encoder
from service import json_bounds
from service.errors import InvalidParameter
from service.formats import jobposting
from service.store import crud
from service.store.models import ID_PATTERN
from service.store.occupation_links import check_caller_uris
from service.store.occupations import OccupationIndex

_ID = re.compile(ID_PATTERN)


@dataclass
class ImportReport:
    counts: Counter[str] = field(default_factory=Counter)
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "created": self.counts["created"],
            "updated": self.counts["updated"],
            "unchanged": self.counts["unchanged"],
            "rejected": len(self.rejected),
            "rejections": [{"line": n, "reason": r} for n, r in self.rejected],
        }


def _key_fields(kind: crud.Kind) -> tuple[str, ...]:
    return ("employer_id", "external_id") if kind is crud.VACANCIES else ("external_id",)


def parse_line(
    kind: crud.Kind, raw: str, default_employer: str | None = None
) -> tuple[dict[str, str], BaseModel]:
    """One JSON line → (key, validated input); raises ValueError naming the field."""
    if (field := json_bounds.too_deep(raw.encode())) is not None:
        raise ValueError(f"{field}: {json_bounds.depth_message()}")
    if (dup := json_bounds.duplicate_key(raw.encode())) is not None:
        raise ValueError(f"{dup[:100]}: given more than once in one object")
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise ValueError("a line must hold one JSON object")
    if kind is crud.VACANCIES and jobposting.is_jobposting(obj):
        return _jobposting_line(obj, default_employer)
    if kind is crud.VACANCIES and default_employer is not None:
        obj.setdefault("employer_id", default_employer)
    key: dict[str, str] = {}
    for name in _key_fields(kind):
        value = obj.pop(name, None)
        if not isinstance(value, str) or not _ID.match(value):
            raise ValueError(
                f"{name}: required, 1–64 letters, digits, '.', '_' or '-', not '.' first"
            )
        key[name] = value
    try:
        return key, kind.schema.model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ValueError(f"{where}: {first['msg']}{more}") from None


def _identifier(value: Any) -> str | None:
    """A schema.org identifier: text, or a PropertyValue's ``value`` (first of a list)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value if isinstance(value, str) and _ID.match(value) else None


def _jobposting_line(
    obj: dict[str, Any], default_employer: str | None
) -> tuple[dict[str, str], BaseModel]:
    """A JobPosting line: the vacancy id is its ``identifier``; the employer is
    ``--employer-id`` or ``hiringOrganization.identifier``."""
    vacancy_id = _identifier(obj.get("identifier"))
    if vacancy_id is None:
        raise ValueError(
            "identifier: required, 1–64 letters, digits, '.', '_' or '-', not '.' first"
        )
    org = obj.get("hiringOrganization")
    employer = default_employer or (
        _identifier(org.get("identifier")) if isinstance(org, dict) else None
    )
    if employer is None:
        raise ValueError("hiringOrganization.identifier: required unless --employer-id is given")
    try:
        data = jobposting.to_vacancy(obj)
    except jobposting.JobPostingError as exc:
        raise ValueError(str(exc)) from None
    return {"employer_id": employer, "external_id": vacancy_id}, data


def _batches(lines: Iterable[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    batch: list[tuple[int, Any]] = []
    for item in lines:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_lines(
    *,
    session: Session,
    kind: crud.Kind,
    lines: Iterable[str],
    encoder: Encoder,
    batch_size: int = 64,
    default_employer: str | None = None,
    progress: Callable[[int], None] | None = None,
    occupations: OccupationIndex | None = None,
) -> ImportReport:
    """Validate and upsert every line; returns counts and the rejected lines with reasons.

    ``occupations``: the ESCO normaliser holder to link rows with (a fresh one when None); pass
    one to share it between imports.
    """
    report = ImportReport()
    occupations = occupations or OccupationIndex()  # one normaliser for the whole import
    parsed: list[tuple[int, tuple[dict[str, str], BaseModel]]] = []
    seen: dict[tuple[str, ...], int] = {}
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            key, data = parse_line(kind, raw, default_employer)
        except ValueError as exc:
            report.rejected.append((number, str(exc)))
            continue
        try:
            check_caller_uris(session, [data])
        except InvalidParameter as exc:
            report.rejected.append(
                (number, f"{exc.detail[0]['field']}: {exc.detail[0]['message']}")
            )
            continue
        ident = tuple(key.values())
        if ident in seen:
            report.rejected.append((number, f"duplicate of line {seen[ident]} in this file"))
            continue
        seen[ident] = number
        parsed.append((number, (key, data)))
    for batch in _batches(parsed, batch_size):
        outcomes = crud.upsert_many(
            session=session,
            kind=kind,
            items=[item for _, item in batch],
            encoder=encoder,
            occupations=occupations,
        )
        report.counts.update(outcome for _, outcome in outcomes)
        if progress is not None:
            progress(len(batch))
    return report
