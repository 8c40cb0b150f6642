"""PUT /v1/candidates/{candidate_id}/cv-document with real PDF, .docx, .odt and text files, on
both backends: the text becomes cv_text through the candidate write path, suggestions are only
proposed, and every bad input is refused with nothing written."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from matching.embedder import content_hash
from matching.esco import read_esco
from matching.profiles import candidate_embed_text
from service.config import Settings
from service.formats.cv_documents import DOCX, ODT, PDF, TEXT
from service.store.db import make_engine
from service.store.models import Candidate, CandidateEmbedding, ChangeLog
from service.store.occupations import import_occupations
from tests import cv_files
from tests.auth import bearer, make_token
from tests.factories import CARE_CV, candidate

URL = "/v1/candidates/kand-cv/cv-document"
ESCO_SUBSET = Path(__file__).resolve().parents[1] / "data" / "esco_subset"
MAKERS: dict[str, Callable[..., bytes]] = {
    PDF: cv_files.make_pdf,
    DOCX: cv_files.make_docx,
    ODT: cv_files.make_odt,
    TEXT: cv_files.make_text,
}
# A profile that lacks what the CV holds, so that every kind of suggestion can appear.
SPARSE = candidate(
    CARE_CV,
    desired_occupations=[],
    languages=[],
    driving_licence=False,
    education_level=None,
    hours_per_week_min=None,
    hours_per_week_max=None,
)


def _put_doc(client: TestClient, data: bytes, media_type: str, url: str = URL) -> Any:
    return client.put(url, content=data, headers={"Content-Type": media_type})


def _stored(db_url: str, external_id: str = "kand-cv") -> dict[str, Any]:
    """The candidate row, its vector's hash and the change-log length, read directly."""
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            row = session.exec(select(Candidate).where(Candidate.external_id == external_id)).one()
            emb = session.get(CandidateEmbedding, row.id)
            changes = session.exec(select(func.count()).select_from(ChangeLog)).one()
            return {
                "row": row.model_dump(exclude={"id"}),
                "hash": emb.content_hash if emb else None,
                "model": emb.model_id if emb else None,
                "changes": int(changes),
            }
    finally:
        engine.dispose()


def _import_esco(db_url: str) -> None:
    engine = make_engine(db_url)
    with Session(engine) as session:
        import_occupations(session, read_esco(ESCO_SUBSET))
    engine.dispose()


@pytest.mark.parametrize("media_type", [PDF, DOCX, ODT, TEXT])
def test_a_document_becomes_cv_text_and_the_rest_stays(
    client: TestClient, db_url: str, media_type: str
) -> None:
    assert client.put("/v1/candidates/kand-cv", json=SPARSE).status_code == 201
    before = client.get("/v1/candidates/kand-cv").json()
    stored_before = _stored(db_url)
    resp = _put_doc(client, MAKERS[media_type](), media_type)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    text = body["cv_text"]
    for word in cv_files.DIACRITICS:
        assert word in text.replace("\n", " ")
    assert "Heftruckchauffeur bij een groothandel" in text
    read = body["cv_document"]
    assert read["media_type"] == media_type
    assert read["characters"] == len(text) and read["words"] >= 30
    assert read["pages"] == (1 if media_type == PDF else None)
    # every other field as it was; the answer is the stored candidate
    after = client.get("/v1/candidates/kand-cv").json()
    assert after["cv_text"] == text
    for name in set(before) - {"cv_text", "updated_at"}:
        assert after[name] == before[name], name
        assert body[name] == before[name], name
    assert after["updated_at"] > before["updated_at"]
    # written as a PUT writes: a vector of the new text, one change-log entry
    stored = _stored(db_url)
    embed_text = candidate_embed_text(text, after["desired_occupations"], after["skills"])
    assert stored["hash"] == content_hash(embed_text, stored["model"]) != stored_before["hash"]
    assert stored["changes"] == stored_before["changes"] + 1
    # suggestions with evidence in cv_text, none of them written
    fields = {s["field"] for s in body["suggestions"]}
    assert {"driving_licence", "languages", "education_level", "hours_per_week"} <= fields
    for s in body["suggestions"]:
        ev = s["evidence"]
        assert text[ev["start"] : ev["end"]] == ev["snippet"] and ev["snippet"]
    assert (after["driving_licence"], after["languages"], after["education_level"]) == (
        False,
        [],
        None,
    )
    assert after["hours_per_week_min"] is None and after["hours_per_week_max"] is None
    # the same document again: the same answer, nothing new written
    again = _put_doc(client, MAKERS[media_type](), media_type)
    assert again.status_code == 200 and again.json()["cv_text"] == text
    assert _stored(db_url)["changes"] == stored["changes"]


def test_accepting_a_suggestion_is_a_normal_candidate_update(client: TestClient) -> None:
    assert client.put("/v1/candidates/kand-cv", json=SPARSE).status_code == 201
    body = _put_doc(client, cv_files.make_pdf(), PDF).json()
    hours = next(s for s in body["suggestions"] if s["field"] == "hours_per_week")
    current = client.get("/v1/candidates/kand-cv").json()
    editable = {k: current[k] for k in SPARSE}
    resp = client.put("/v1/candidates/kand-cv", json={**editable, **hours["update"]})
    assert resp.status_code == 200
    assert (resp.json()["hours_per_week_min"], resp.json()["hours_per_week_max"]) == (24, 32)
    again = _put_doc(client, cv_files.make_docx(), DOCX).json()  # the field is now confirmed
    assert "hours_per_week" not in {s["field"] for s in again["suggestions"]}
    assert again["hours_per_week_min"] == 24


def test_occupations_are_suggested_through_the_esco_normaliser(
    client: TestClient, db_url: str
) -> None:
    _import_esco(db_url)
    assert client.put("/v1/candidates/kand-cv", json=SPARSE).status_code == 201
    body = _put_doc(client, cv_files.make_odt(), ODT).json()
    occupations = [s for s in body["suggestions"] if s["field"] == "desired_occupations"]
    assert occupations and occupations[0]["evidence"]["snippet"] == "Heftruckchauffeur"
    assert occupations[0]["score"] >= 0.75
    assert body["desired_occupations"] == []  # proposed, not written


def test_a_profile_that_has_the_fields_gets_no_suggestions_for_them(client: TestClient) -> None:
    full = candidate(CARE_CV, languages=["nl", "en"])  # licence, mbo2, hours 24-36
    assert client.put("/v1/candidates/kand-cv", json=full).status_code == 201
    body = _put_doc(client, cv_files.make_text(), TEXT).json()
    assert body["suggestions"] == []


def test_unknown_candidate_is_404_and_nothing_is_created(client: TestClient, db_url: str) -> None:
    resp = _put_doc(client, cv_files.make_pdf(), PDF, "/v1/candidates/nobody/cv-document")
    assert resp.status_code == 404
    assert resp.json() == {"error": "not_found", "detail": "candidate 'nobody' not found"}
    assert client.get("/v1/candidates/nobody").status_code == 404
    bad_id = _put_doc(client, cv_files.make_pdf(), PDF, "/v1/candidates/no%20spaces/cv-document")
    assert bad_id.status_code == 422 and bad_id.json()["detail"][0]["field"] == "candidate_id"


BAD: list[tuple[str, Callable[[], bytes], str, str]] = [
    ("empty", lambda: b"", PDF, "empty"),
    ("empty-docx", lambda: b"", DOCX, "empty"),
    (
        "encrypted",
        lambda: cv_files.make_pdf(user_password="geheim", owner_password="eigenaar"),
        PDF,
        "encrypted",
    ),
    ("scan", cv_files.make_scan_pdf, PDF, "no_text_layer"),
    ("corrupt-pdf", lambda: b"%PDF-1.7\n" + b"\x00kapot" * 300, PDF, "corrupt"),
    ("corrupt-docx", lambda: cv_files.make_docx()[:4000], DOCX, "corrupt"),
    ("odt-as-docx", cv_files.make_odt, DOCX, "corrupt"),
    ("corrupt-odt", lambda: b"dit is geen zip-archief maar platte tekst", ODT, "corrupt"),
    ("short-pdf", lambda: cv_files.make_pdf(["Curriculum vitae"], [], []), PDF, "too_short"),
    ("short-text", lambda: b"Zoekt werk.", TEXT, "too_short"),
    ("long-text", lambda: ("woord " * 20_000).encode(), TEXT, "too_long"),
    ("not-utf8", lambda: "Coördinatie van één café".encode("cp1252") * 5, TEXT, "corrupt"),
    (
        "zip-bomb",
        lambda: cv_files.inflated_xml(cv_files.make_docx(), "word/document.xml", 40),
        DOCX,
        "archive_too_large",
    ),
    (
        "big-xml",
        lambda: cv_files.inflated_xml(cv_files.make_odt(), "content.xml", 12),
        ODT,
        "archive_too_large",
    ),
    (
        "entries",
        lambda: cv_files.many_entries(cv_files.make_docx(), 1000),
        DOCX,
        "archive_too_large",
    ),
    (
        "billion-laughs",
        lambda: cv_files.rezip(
            cv_files.make_docx(), {"word/document.xml": cv_files.BILLION_LAUGHS}
        ),
        DOCX,
        "unsafe_xml",
    ),
    (
        "external-entity",
        lambda: cv_files.rezip(cv_files.make_odt(), {"content.xml": cv_files.EXTERNAL_ENTITY}),
        ODT,
        "unsafe_xml",
    ),
]


def test_bad_documents_are_422_naming_cv_document_and_write_nothing(
    client: TestClient, db_url: str
) -> None:
    assert client.put("/v1/candidates/kand-cv", json=SPARSE).status_code == 201
    stored = _stored(db_url)
    for name, make, media_type, reason in BAD:
        resp = _put_doc(client, make(), media_type)
        assert resp.status_code == 422, (name, resp.text)
        [detail] = resp.json()["detail"]
        assert detail["field"] == "cv_document" and detail["location"] == "body", name
        assert detail["message"].startswith(f"{reason}: "), (name, detail)
    assert _stored(db_url) == stored  # not a byte of the profile, its vector or the log


@pytest.mark.parametrize(
    "content_type",
    ["application/msword", "image/png", "application/json", "text/html", None],
)
def test_other_media_types_are_415(
    client: TestClient, db_url: str, content_type: str | None
) -> None:
    assert client.put("/v1/candidates/kand-cv", json=SPARSE).status_code == 201
    stored = _stored(db_url)
    headers = {"Content-Type": content_type} if content_type else {}
    resp = client.put(URL, content=cv_files.make_docx(), headers=headers)
    assert resp.status_code == 415, resp.text
    assert resp.json()["error"] == "unsupported_media_type"
    assert "application/pdf" in resp.json()["detail"]
    assert _stored(db_url) == stored


def test_the_upload_limit_is_5_mb_on_this_route_only(
    client: TestClient, db_url: str, settings: Settings
) -> None:
    assert client.put("/v1/candidates/kand-cv", json=SPARSE).status_code == 201
    stored = _stored(db_url)
    limit = settings.max_cv_document_bytes
    assert limit == 5_000_000
    over = _put_doc(client, b"%PDF-1.7\n" + b"0" * limit, PDF)
    assert over.status_code == 413
    assert over.json() == {
        "error": "payload_too_large",
        "detail": f"request body exceeds {limit} bytes",
    }

    def chunks() -> Any:  # no Content-Length: the limit counts what arrives
        for _ in range(6):
            yield b"a" * 1_000_000

    chunked = client.put(URL, content=chunks(), headers={"Content-Type": TEXT})
    assert chunked.status_code == 413
    # 2 MB is over the JSON body limit (1 MB) but within this route's: the text is read
    # (and is too long for cv_text: a 422, not a 413)
    two_mb = _put_doc(client, ("woord " * 350_000).encode(), TEXT)
    assert two_mb.status_code == 422 and "too_long" in two_mb.text
    assert _stored(db_url) == stored
    # the other routes keep their limit
    big_json = client.put("/v1/candidates/kand-cv", json=candidate("x" * 1_100_000))
    assert big_json.status_code == 413


def test_roles_and_audit(client: TestClient, db_url: str, settings: Settings) -> None:
    assert client.put("/v1/candidates/kand-cv", json=SPARSE).status_code == 201
    url = settings.resolved_database_url()
    intake = make_token(url, "intake")
    director = make_token(url, "director", caseworker_id="cw-01")
    employer = make_token(url, "employer", employer_id="emp-a")
    doc = cv_files.make_text()
    headers = {"Content-Type": TEXT}
    ok = client.put(URL, content=doc, headers={**headers, **bearer(intake)})
    assert ok.status_code == 200
    for token in (director, employer):
        resp = client.put(URL, content=doc, headers={**headers, **bearer(token)})
        assert resp.status_code == 403
    assert client.put(URL, content=doc, headers={**headers, "Authorization": ""}).status_code == (
        401
    )
    events = client.get("/v1/audit", params={"candidate_id": "kand-cv"}).json()["data"]
    uploads = [e for e in events if e["route"].endswith("/cv-document")]
    assert sorted((e["action"], e["status"], e["outcome"]) for e in uploads) == [
        ("write", 200, "allowed"),
        ("write", 401, "refused"),  # the path names the candidate; no key holder
        ("write", 403, "refused"),
        ("write", 403, "refused"),
    ]


def test_concurrent_uploads_to_one_candidate_leave_one_whole_document(
    client: TestClient, db_url: str
) -> None:
    assert client.put("/v1/candidates/kand-cv", json=SPARSE).status_code == 201
    documents = []
    for i, (media_type, make) in enumerate(MAKERS.items()):
        for j in range(2):
            marker = f"Kenmerk{i}x{j} vrijwilligerswerk"
            left = (*cv_files.LEFT, marker)
            documents.append((media_type, make(left)))
    documents.append((PDF, b"%PDF-1.7\n" + b"\x00kapot" * 300))  # one bad one among them
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def upload(media_type: str, data: bytes) -> None:
        resp = _put_doc(client, data, media_type)
        with lock:
            answers.append((resp.status_code, resp.json().get("cv_text", "")))

    threads = [threading.Thread(target=upload, args=d) for d in documents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    statuses = sorted(code for code, _ in answers)
    assert statuses == [200] * (len(documents) - 1) + [422], statuses
    final = client.get("/v1/candidates/kand-cv").json()
    texts = {text for code, text in answers if code == 200}
    assert final["cv_text"] in texts  # one upload's text, whole
    assert sum("Kenmerk" in line for line in final["cv_text"].split("\n")) == 1
    stored = _stored(db_url)
    embed_text = candidate_embed_text(
        final["cv_text"], final["desired_occupations"], final["skills"]
    )
    assert stored["hash"] == content_hash(embed_text, stored["model"])  # vector of that text
    for name in ("languages", "postcode", "caseworker_id", "client_group"):
        assert final[name] == SPARSE[name]


def test_the_candidate_page_has_the_upload_field(client: TestClient) -> None:
    assert client.put("/v1/candidates/kand-cv", json=SPARSE).status_code == 201
    page = client.get("/ui/f/candidates/kand-cv")
    assert page.status_code == 200
    assert 'data-cv-url="/v1/candidates/kand-cv/cv-document"' in page.text
    assert '<label for="cv-bestand">CV-bestand</label>' in page.text
    assert 'type="file"' in page.text and "data-cv-suggestions" in page.text
