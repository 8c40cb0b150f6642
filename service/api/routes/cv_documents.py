"""A candidate's CV as a document: its text becomes ``cv_text``, and the fields it suggests
are proposed, never written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.orm.exc import StaleDataError

from matching.cv_suggestions import ProfileFacts, suggest
from service.api.cv_document_schemas import (
    CV_DOCUMENT_TEXT,
    CandidateCvDocument,
    document_read,
    suggestion_out,
)
from service.api.deps import CandidateId, SessionDep, StateDep
from service.api.routes.candidates import to_public
from service.api.tenancy import CandidateScopeDep
from service.errors import (
    ERROR_RESPONSES,
    ErrorBody,
    InvalidParameter,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from service.formats import cv_documents
from service.store import crud
from service.store.models import Candidate, CandidateIn

router = APIRouter(prefix="/v1/candidates", tags=["candidates"])

PATH = "/v1/candidates/{candidate_id}/cv-document"


@dataclass(frozen=True)
class UploadedDocument:
    data: bytes
    media_type: str
    charset: str | None


async def document_body(request: Request, state: StateDep) -> UploadedDocument:
    """The request body as a document of a supported media type (415 otherwise)."""
    try:
        media, charset = cv_documents.parse_media_type(request.headers.get("content-type"))
    except cv_documents.UnsupportedDocumentType as exc:
        raise UnsupportedMediaType(str(exc)) from None
    data = await request.body()
    limit = state.settings.max_cv_document_bytes
    if len(data) > limit:  # the body-size middleware refuses first; this holds if it is absent
        raise PayloadTooLarge(f"request body exceeds {limit} bytes")
    return UploadedDocument(data, media, charset)


_UNSUPPORTED = {
    "error": "unsupported_media_type",
    "detail": "send the CV as " + ", ".join(cv_documents.MEDIA_TYPES) + ", not application/msword",
}
_BINARY = {"type": "string", "format": "binary"}
_BODY = {
    "requestBody": {
        "required": True,
        "description": "The CV file itself, at most 5 MB. The file is not stored; its text is.",
        "content": {
            cv_documents.PDF: {"schema": _BINARY, "example": "%PDF-1.7 ... (a PDF file)"},
            cv_documents.DOCX: {"schema": _BINARY, "example": "PK... (a .docx file)"},
            cv_documents.ODT: {"schema": _BINARY, "example": "PK... (an .odt file)"},
            cv_documents.TEXT: {"schema": {"type": "string"}, "example": CV_DOCUMENT_TEXT},
        },
    }
}


def _validated(row: Candidate, text: str) -> CandidateIn:
    try:
        return CandidateIn.model_validate(
            {**crud.input_fields(crud.CANDIDATES, row), "cv_text": text}
        )
    except ValidationError as exc:
        # The stored fields were valid when written; what fails here is the new text.
        errors = exc.errors()
        for e in errors:
            e["loc"] = (
                ("body", "cv_document") if e["loc"][:1] == ("cv_text",) else ("body", *e["loc"])
            )
        raise RequestValidationError(errors) from None


@router.put(
    "/{candidate_id}/cv-document",
    summary="Replace a candidate's cv_text by the text of a CV document (PDF, .docx, .odt)",
    response_model=CandidateCvDocument,
    responses={
        404: {"model": ErrorBody, "description": "Not found"},
        415: {
            "model": ErrorBody,
            "description": "Not a PDF, .docx, .odt or plain text",
            "content": {"application/json": {"example": _UNSUPPORTED}},
        },
        **ERROR_RESPONSES,
    },
    openapi_extra=_BODY,
)
def put_cv_document(
    candidate_id: CandidateId,
    document: Annotated[UploadedDocument, Depends(document_body)],
    session: SessionDep,
    state: StateDep,
    scope: CandidateScopeDep,
) -> Any:
    """Replace a candidate's cv_text by the text of a CV document (PDF, .docx, .odt).

    The body is the file, sent as `application/pdf`, `.docx`
    (`application/vnd.openxmlformats-officedocument.wordprocessingml.document`), `.odt`
    (`application/vnd.oasis.opendocument.text`) or `text/plain`, at most 5 MB (413 beyond).
    The extracted text replaces `cv_text` as a candidate PUT would (validation, embedding,
    change log, audit); every other field stays. The file is not stored.

    The answer is the candidate, what was read (`cv_document`: pages, characters, words) and
    `suggestions`: fields the profile lacks that the text suggests (occupations, driving
    licence, languages, education level, hours), each with its evidence in `cv_text`. They
    are not written: a caseworker accepts one with a normal candidate PUT.

    A 422 names `cv_document` and starts with the reason: `empty`, `corrupt`, `encrypted`,
    `no_text_layer` (a scan), `too_short`, `too_long`, `too_many_pages`, `archive_too_large`
    or `unsafe_xml`. Nothing is written then.
    """
    scope.get(candidate_id)  # 404 when missing or outside the key's scope
    scope.show([candidate_id])
    session.rollback()  # no transaction (nor pooled connection) held while the file is read
    try:
        extracted = cv_documents.extract_text(document.data, document.media_type, document.charset)
    except cv_documents.CvDocumentError as exc:
        raise InvalidParameter("cv_document", str(exc), location="body") from None
    row = crud.candidate_for_write(session, candidate_id)
    if row is None or not scope.permits(row):  # erased while the document was read
        raise NotFound(f"candidate {candidate_id!r} not found")
    data = _validated(row, extracted.text)
    try:
        [(row, _)] = crud.upsert_many(
            session=session,
            kind=crud.CANDIDATES,
            items=[({"external_id": candidate_id}, data)],
            encoder=state.encoder,
            occupations=state.occupations,
            permits=scope.permits,
        )
    except (StaleDataError, crud.OutsideScope):
        # SQLite: erased between the read and the write; or moved out of the key's scope
        session.rollback()
        raise NotFound(f"candidate {candidate_id!r} not found") from None
    state.index.catch_up(session)
    facts = ProfileFacts(
        driving_licence=row.driving_licence,
        languages=tuple(row.languages),
        education_level=row.education_level,
        hours_per_week_min=row.hours_per_week_min,
        hours_per_week_max=row.hours_per_week_max,
        desired_occupations=tuple(row.desired_occupations),
        desired_esco_uris=tuple(
            [*row.desired_esco_uris, *(link["uri"] for link in row.desired_occupations_esco)]
        ),
    )
    suggestions = suggest(extracted.text, facts, state.occupations.get(session))
    return CandidateCvDocument.model_validate(
        {
            **to_public(row).model_dump(),
            "cv_document": document_read(extracted),
            "suggestions": [suggestion_out(s) for s in suggestions],
        }
    )
