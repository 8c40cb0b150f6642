"""Reads of the focus occupations (focusberoepen); their writes, with the change log, are in
:mod:`service.store.crud`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, func, select

from service.store.models import FocusOccupation


def get_focus(session: Session, slug: str) -> FocusOccupation | None:
    """The focus occupation with this slug; None when there is none."""
    return session.exec(select(FocusOccupation).where(FocusOccupation.slug == slug)).first()


def focus_page(session: Session, limit: int, offset: int) -> tuple[Sequence[FocusOccupation], int]:
    """A page of focus occupations by slug, and how many there are over every page."""
    total = session.exec(select(func.count()).select_from(FocusOccupation)).one()
    rows = session.exec(
        select(FocusOccupation).order_by(FocusOccupation.slug).offset(offset).limit(limit)
    ).all()
    return rows, int(total)


def all_focus(session: Session) -> Sequence[FocusOccupation]:
    """Every focus occupation, by slug."""
    return session.exec(select(FocusOccupation).order_by(FocusOccupation.slug)).all()
