"""Focus occupations (focusberoepen): the curated list the fuzzy focus filter matches against."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from service.api.deps import Limit, Offset, SessionDep, Slug, StateDep
from service.api.rendering import render_each
from service.errors import NotFound
from service.store import crud
from service.store.focus_occupations import focus_page, get_focus
from service.store.models import (
    FocusOccupation,
    FocusOccupationIn,
    FocusOccupationList,
    FocusOccupationPublic,
)

router = APIRouter(prefix="/v1/focus-occupations", tags=["focus occupations"])


def to_public(row: FocusOccupation) -> FocusOccupationPublic:
    return FocusOccupationPublic(
        slug=row.slug,
        name=row.name,
        synonyms=list(row.synonyms),
        esco_uris=list(row.esco_uris or []),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@router.put(
    "/{slug}",
    response_model=FocusOccupationPublic,
    responses={201: {"model": FocusOccupationPublic, "description": "Created"}},
)
def put_focus_occupation(
    slug: Slug, body: FocusOccupationIn, session: SessionDep, state: StateDep, response: Response
) -> FocusOccupationPublic:
    """Create or replace a focus occupation with its synonyms and ESCO occupations.

    A title is in the focus occupation when it fuzzy-matches the name or a synonym, or when its
    ESCO link is one of ``esco_uris``. An ``esco_uris`` entry that is not an imported ESCO
    occupation is a 422 naming ``esco_uris.<i>``; nothing is written then.
    """
    row, outcome = crud.upsert_focus(session=session, slug=slug, data=body)
    state.index.catch_up(session)
    response.status_code = status.HTTP_201_CREATED if outcome == "created" else status.HTTP_200_OK
    return to_public(row)


@router.get("/{slug}", response_model=FocusOccupationPublic)
def get_focus_occupation(slug: Slug, session: SessionDep) -> FocusOccupationPublic:
    """Read one focus occupation."""
    row = get_focus(session, slug)
    if row is None:
        raise NotFound(f"focus occupation {slug!r} not found")
    return to_public(row)


@router.delete("/{slug}", status_code=status.HTTP_204_NO_CONTENT)
def delete_focus_occupation(slug: Slug, session: SessionDep, state: StateDep) -> Response:
    """Delete a focus occupation."""
    if not crud.delete_focus(session=session, slug=slug):
        raise NotFound(f"focus occupation {slug!r} not found")
    state.index.catch_up(session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("", response_model=FocusOccupationList)
def list_focus_occupations(
    session: SessionDep, limit: Limit = 50, offset: Offset = 0
) -> FocusOccupationList:
    """Focus occupations by slug, a page at a time; ``count`` is the total."""
    rows, total = focus_page(session, limit, offset)
    return FocusOccupationList(data=render_each(rows, to_public, "focus_occupation"), count=total)
