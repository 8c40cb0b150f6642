"""Text extraction from real PDF, .docx and .odt files, and every refusal, with its reason."""

from __future__ import annotations

import pytest

from service.formats.cv_documents import (
    DOCX,
    MAX_ARCHIVE_ENTRIES,
    MIN_WORDS,
    ODT,
    PDF,
    TEXT,
    CvDocumentError,
    UnsupportedDocumentType,
    clean_text,
    extract_text,
    parse_media_type,
)
from tests import cv_files

GOOD = {
    PDF: cv_files.make_pdf,
    DOCX: cv_files.make_docx,
    ODT: cv_files.make_odt,
}


@pytest.mark.parametrize("media_type", [PDF, DOCX, ODT])
def test_two_columns_a_table_and_diacritics_come_out_in_reading_order(media_type: str) -> None:
    read = extract_text(GOOD[media_type](), media_type)
    text = read.text
    for word in cv_files.DIACRITICS:
        assert word in text.replace("\n", " "), (word, text)
    # each column's lines stay whole, and the left column comes before the right one
    positions = [text.find(line) for line in (*cv_files.LEFT, *cv_files.RIGHT[:3])]
    assert -1 not in positions and positions == sorted(positions), text
    # a table row's cells stay on one line, in column order
    row = [line for line in text.split("\n") if "Magazijnmedewerker" in line]
    assert len(row) == 1 and row[0].index("2015-2022") < row[0].index("Groothandel Noordelijk")
    assert read.characters == len(text) and read.words >= 40
    assert read.pages == (1 if media_type == PDF else None)


def test_pdf_pages_are_counted() -> None:
    assert extract_text(cv_files.make_pdf(extra_pages=2), PDF).pages == 3


def test_plain_text_in_utf8_and_a_declared_charset() -> None:
    text = "\n".join((*cv_files.LEFT, *cv_files.RIGHT))
    assert extract_text(text.encode(), TEXT).text == text
    assert extract_text(text.encode("cp1252"), TEXT, "windows-1252").text == text
    assert extract_text(b"\xef\xbb\xbf" + text.encode(), TEXT).text == text  # BOM dropped


def test_clean_text_normalises_what_pdfs_produce() -> None:
    decomposed = "Coo\u0308rdinatie\u00adteam\x07  en\u00a0 e\u0301e\u0301n\r\n\n\n\nniveau 2 "
    assert clean_text(decomposed) == "Coördinatieteam en één\n\nniveau 2"


def test_an_owner_password_alone_does_not_hide_the_text() -> None:
    read = extract_text(cv_files.make_pdf(owner_password="eigenaar"), PDF)
    assert "Heftruckchauffeur" in read.text


def _reason(data: bytes, media_type: str, charset: str | None = None) -> str:
    with pytest.raises(CvDocumentError) as caught:
        extract_text(data, media_type, charset)
    assert str(caught.value).startswith(caught.value.reason + ": ")
    return caught.value.reason


@pytest.mark.parametrize(
    ("make", "media_type", "reason"),
    [
        (lambda: b"", PDF, "empty"),
        (lambda: b"  \n ", TEXT, "empty"),
        (lambda: b"", DOCX, "empty"),
        (
            lambda: cv_files.make_pdf(user_password="geheim", owner_password="eigenaar"),
            PDF,
            "encrypted",
        ),
        (cv_files.make_scan_pdf, PDF, "no_text_layer"),
        (lambda: b"%PDF-1.7\n" + b"\x00niets" * 200, PDF, "corrupt"),
        (lambda: cv_files.make_pdf()[:700], PDF, "corrupt"),
        (lambda: b"GIF89a and then some bytes of a picture", PDF, "corrupt"),
        (lambda: cv_files.make_docx()[:5000], DOCX, "corrupt"),
        (lambda: b"plain words, not a zip archive at all", ODT, "corrupt"),
        (cv_files.make_odt, DOCX, "corrupt"),  # an .odt sent as .docx
        (cv_files.make_docx, ODT, "corrupt"),
        (lambda: b"Jan zoekt werk", TEXT, "too_short"),
        (lambda: cv_files.make_pdf(["Curriculum vitae"], ["Heftruck"], []), PDF, "too_short"),
        (lambda: cv_files.make_docx(["Curriculum vitae"], [], []), DOCX, "too_short"),
        (lambda: cv_files.make_odt(["Curriculum vitae"], [], []), ODT, "too_short"),
        (lambda: ("woord " * 10_000).encode(), TEXT, "too_long"),
        (lambda: b"Ervaring als kok\x00 in een restaurant", TEXT, "corrupt"),
        (lambda: "Coördinatie".encode("cp1252") + b" en meer", TEXT, "corrupt"),  # not utf-8
        (lambda: cv_files.make_pdf(extra_pages=100), PDF, "too_many_pages"),
    ],
)
def test_bad_documents_are_refused_with_their_reason(make, media_type: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    assert _reason(make(), media_type) == reason


def test_zip_bombs_and_hostile_xml_are_refused_before_parsing() -> None:
    docx, odt = cv_files.make_docx(), cv_files.make_odt()
    # 40 MB of XML packed into ~40 kB: the declared size is over the archive bound
    assert _reason(cv_files.inflated_xml(docx, "word/document.xml", 40), DOCX) == (
        "archive_too_large"
    )
    # one XML part over its own bound, the archive as a whole under it
    assert _reason(cv_files.inflated_xml(odt, "content.xml", 12), ODT) == "archive_too_large"
    assert _reason(cv_files.many_entries(docx, MAX_ARCHIVE_ENTRIES), DOCX) == "archive_too_large"
    laughs = cv_files.rezip(docx, {"word/document.xml": cv_files.BILLION_LAUGHS})
    assert _reason(laughs, DOCX) == "unsafe_xml"
    xxe = cv_files.rezip(odt, {"content.xml": cv_files.EXTERNAL_ENTITY})
    assert _reason(xxe, ODT) == "unsafe_xml"
    # a DTD in any part, not only the main one
    styles = cv_files.rezip(docx, {"word/styles.xml": cv_files.BILLION_LAUGHS})
    assert _reason(styles, DOCX) == "unsafe_xml"


def test_the_word_bound_is_a_few_words() -> None:
    words = ["woord"] * MIN_WORDS
    assert extract_text(" ".join(words).encode(), TEXT).words == MIN_WORDS
    assert _reason(" ".join(words[:-1]).encode(), TEXT) == "too_short"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/pdf", (PDF, None)),
        ("Application/PDF; name=cv.pdf", (PDF, None)),
        (DOCX, (DOCX, None)),
        (ODT, (ODT, None)),
        ("text/plain", (TEXT, None)),
        ("text/plain; charset=UTF-8", (TEXT, "utf-8")),
        ('text/plain; charset="latin1"', (TEXT, "iso-8859-1")),
        ("text/plain; charset=cp1252", (TEXT, "windows-1252")),
    ],
)
def test_media_types(header: str, expected: tuple[str, str | None]) -> None:
    assert parse_media_type(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "application/msword",
        "application/json",
        "image/png",
        "multipart/form-data; boundary=x",
        "text/plain; charset=klingon",
        "text/plain; charset=rot13",
    ],
)
def test_other_media_types_are_unsupported(header: str | None) -> None:
    with pytest.raises(UnsupportedDocumentType):
        parse_media_type(header)
