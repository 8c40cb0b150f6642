"""Text from CV documents: PDF (pypdf), .docx (python-docx), .odt (odfpy) and plain text.

Only the text is kept; the file itself is never stored (data minimisation: erasing a
candidate erases everything there was). Every refusal is a :class:`CvDocumentError` whose
``reason`` says which kind of bad input it was.

Office documents are zip archives of XML. Before a reader opens one, :func:`_check_archive`
bounds the entry count and the declared uncompressed sizes (Python's zipfile never inflates an
entry beyond its declared size, so these bound the real work), and parses every XML part with
a parser that refuses any document type declaration (:func:`_refuse_dtd`). Entities can only be
declared in one, so a billion-laughs part or an external entity never reaches python-docx or
odfpy (which parse the parts again, then known to be plain XML).
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import Literal, NoReturn
from xml.parsers import expat

from service.store.models import MAX_CV_CHARS

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
TEXT = "text/plain"
MEDIA_TYPES = (PDF, DOCX, ODT, TEXT)

MAX_DOCUMENT_BYTES = 5_000_000
"""The largest document accepted (the route's body limit; larger is a 413)."""
MAX_PAGES = 100
MAX_ARCHIVE_ENTRIES = 1_000
MAX_UNCOMPRESSED_BYTES = 30_000_000
"""Sum of the declared uncompressed sizes of a .docx/.odt's entries (a CV is well under 1 MB
of XML; pictures count too)."""
MAX_XML_PART_BYTES = 10_000_000
MIN_WORDS = 10
"""Fewer words than this is not a CV (a title page, a photo with a name, a failed export)."""

TEXT_CHARSETS = {
    "utf-8": "utf-8",
    "ascii": "us-ascii",
    "iso8859-1": "iso-8859-1",
    "iso8859-15": "iso-8859-15",
    "cp1252": "windows-1252",
    "utf-16": "utf-16",
}
"""Text charsets read: Python's codec name -> the name answers use."""

Reason = Literal[
    "empty",
    "corrupt",
    "encrypted",
    "no_text_layer",
    "too_short",
    "too_long",
    "too_many_pages",
    "archive_too_large",
    "unsafe_xml",
]


class CvDocumentError(Exception):
    """A document that yields no usable CV text; ``reason`` names the kind of problem."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


class UnsupportedDocumentType(Exception):
    """A media type (or text charset) this module does not read."""


@dataclass(frozen=True)
class ExtractedText:
    """A document's text and what was read: ``pages`` only for formats with pages (PDF)."""

    text: str
    media_type: str
    pages: int | None
    characters: int
    words: int


def parse_media_type(header: str | None) -> tuple[str, str | None]:
    """(media type, charset) of a Content-Type header, lower-cased; raises
    :class:`UnsupportedDocumentType` for anything but :data:`MEDIA_TYPES`."""
    media, _, params = (header or "").partition(";")
    media = media.strip().lower()
    if media not in MEDIA_TYPES:
        raise UnsupportedDocumentType(
            "send the CV as " + ", ".join(MEDIA_TYPES) + f", not {media or 'no media type'}"
        )
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if media == TEXT and charset is not None:
        try:
            codec = codecs.lookup(charset).name
        except LookupError:
            raise UnsupportedDocumentType(f"unknown charset {charset!r}") from None
        if codec not in TEXT_CHARSETS:
            raise UnsupportedDocumentType(
                f"charset {charset!r} is not read; send one of "
                + ", ".join(sorted(TEXT_CHARSETS.values()))
            )
        charset = TEXT_CHARSETS[codec]
    return media, charset


# ---------------------------------------------------------------- text clean-up

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\ufeff\u00ad]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def clean_text(text: str) -> str:
    """NFC (PDFs often give decomposed accents), no control characters or soft hyphens, one
    space between words, no trailing spaces, at most one empty line in a row."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n").replace("\x0c", "\n")
    lines = [_SPACES.sub(" ", _CONTROL.sub("", line)).strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def count_words(text: str) -> int:
    """Tokens holding at least one letter (so page numbers and dates are not words)."""
    return sum(1 for token in text.split() if any(ch.isalpha() for ch in token))


# ---------------------------------------------------------------- formats


def _pdf_text(data: bytes) -> tuple[str, int]:
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    if not data.lstrip().startswith(b"%PDF-"):
        raise CvDocumentError("corrupt", "not a PDF file (it does not start with %PDF-)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            # Only a document that opens without a password (an owner password restricting
            # printing or copying) is read; anything else is for the candidate to unlock.
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError, PdfReadError):
                opened = PasswordType.NOT_DECRYPTED
            if not opened:
                raise CvDocumentError(
                    "encrypted", "the PDF is password-protected; send it without a password"
                )
        pages = len(reader.pages)
        if pages == 0:
            raise CvDocumentError("corrupt", "the PDF has no pages")
        if pages > MAX_PAGES:
            raise CvDocumentError("too_many_pages", f"{pages} pages; at most {MAX_PAGES} are read")
        texts = [page.extract_text() or "" for page in reader.pages]
    except CvDocumentError:
        raise
    except FileNotDecryptedError:
        raise CvDocumentError(
            "encrypted", "the PDF is password-protected; send it without a password"
        ) from None
    except Exception as exc:  # pypdf raises many kinds on damaged files; all mean "corrupt"
        raise CvDocumentError("corrupt", f"the PDF cannot be read ({type(exc).__name__})") from None
    text = "\n\n".join(texts)
    if not clean_text(text):
        raise CvDocumentError(
            "no_text_layer",
            "the PDF has no text layer (a scan or photo?); send a PDF with text, or the text",
        )
    return text, pages


class _DtdFound(Exception):
    pass


def _refuse_dtd(xml: bytes) -> None:
    """Parse ``xml`` (well-formedness only) and raise :class:`_DtdFound` at a document type
    declaration, before any of it is read: the same guard as defusedxml's ``forbid_dtd``, on
    expat without Python callbacks per element (defusedxml's tree builder took 90 ms for the
    350 kB styles part of an ordinary .docx; this takes a few)."""

    def refuse(*_: object) -> NoReturn:
        raise _DtdFound

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.Parse(xml, True)


def _check_archive(data: bytes, required: str, kind: str) -> None:
    """Bound a zip-based document before any reader opens it (see the module docstring)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise CvDocumentError("corrupt", f"not a {kind} file (not a zip archive)") from None
    with archive:
        if len(entries) > MAX_ARCHIVE_ENTRIES:
            raise CvDocumentError(
                "archive_too_large",
                f"the {kind} holds {len(entries)} entries; at most {MAX_ARCHIVE_ENTRIES}",
            )
        total = sum(e.file_size for e in entries)
        if total > MAX_UNCOMPRESSED_BYTES:
            raise CvDocumentError(
                "archive_too_large",
                f"the {kind} unpacks to {total} bytes; at most {MAX_UNCOMPRESSED_BYTES}",
            )
        names = {e.filename for e in entries}
        if required not in names:
            raise CvDocumentError("corrupt", f"not a {kind} file ({required} is missing)")
        for entry in entries:
            if not entry.filename.endswith((".xml", ".rels")):
                continue
            if entry.file_size > MAX_XML_PART_BYTES:
                raise CvDocumentError(
                    "archive_too_large",
                    f"{entry.filename} unpacks to {entry.file_size} bytes; "
                    f"at most {MAX_XML_PART_BYTES}",
                )
            try:
                _refuse_dtd(archive.read(entry))
            except _DtdFound:
                raise CvDocumentError(
                    "unsafe_xml",
                    f"{entry.filename} declares a DTD or entities, which are not read",
                ) from None
            except (expat.ExpatError, zipfile.BadZipFile, EOFError, ValueError, OSError) as exc:
                raise CvDocumentError(
                    "corrupt", f"{entry.filename} cannot be read ({type(exc).__name__})"
                ) from None


def _docx_text(data: bytes) -> str:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    _check_archive(data, "word/document.xml", ".docx")
    try:
        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Paragraph):
                lines.append(block.text)
            elif isinstance(block, Table):
                lines.extend(_docx_table_lines(block))
    except Exception as exc:  # python-docx and lxml raise many kinds on damaged files
        raise CvDocumentError(
            "corrupt", f"the .docx cannot be read ({type(exc).__name__})"
        ) from None
    return "\n".join(lines)


def _docx_table_lines(table: object) -> list[str]:
    """One line per row, its cells joined by " | " (a merged cell once)."""
    out = []
    for row in table.rows:  # type: ignore[attr-defined]  # a python-docx Table; the library has no type hints
        seen: set[int] = set()
        cells = []
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cell_text = " ".join(p.text.strip() for p in cell.paragraphs if p.text.strip())
            nested = [line for t in cell.tables for line in _docx_table_lines(t)]
            cells.append(" ".join([cell_text, *nested]).strip())
        out.append(" | ".join(c for c in cells if c))
    return out


def _odt_text(data: bytes) -> str:
    from odf import teletype
    from odf.namespaces import TABLENS, TEXTNS
    from odf.opendocument import load

    _check_archive(data, "content.xml", ".odt")

    def walk(node: object, lines: list[str]) -> None:
        for child in getattr(node, "childNodes", []):
            qname = getattr(child, "qname", None)
            if qname in ((TEXTNS, "p"), (TEXTNS, "h")):
                lines.append(teletype.extractText(child))
            elif qname == (TABLENS, "table-row"):
                cells = []
                for cell in child.childNodes:
                    inner: list[str] = []
                    walk(cell, inner)
                    cells.append(" ".join(x.strip() for x in inner if x.strip()))
                lines.append(" | ".join(c for c in cells if c))
            else:
                walk(child, lines)

    try:
        document = load(io.BytesIO(data))
        lines: list[str] = []
        walk(document.text, lines)
    except Exception as exc:  # odfpy raises many kinds on damaged files
        raise CvDocumentError(
            "corrupt", f"the .odt cannot be read ({type(exc).__name__})"
        ) from None
    return "\n".join(lines)


def _plain_text(data: bytes, charset: str | None) -> str:
    if charset is None and data.startswith((b"\xff\xfe", b"\xfe\xff")):
        charset = "utf-16"
    try:
        text = data.decode(charset or "utf-8")
    except UnicodeDecodeError:
        raise CvDocumentError(
            "corrupt", f"the text is not valid {charset or 'utf-8'} (give charset= if it is not)"
        ) from None
    if "\x00" in text:
        raise CvDocumentError("corrupt", "the text holds NUL characters: not plain text")
    return text.removeprefix("\ufeff")


def extract_text(data: bytes, media_type: str, charset: str | None = None) -> ExtractedText:
    """The cleaned text of a CV document of ``media_type`` (one of :data:`MEDIA_TYPES`).

    Raises:
        CvDocumentError: empty, corrupt, encrypted, no text layer, too short (fewer than
            :data:`MIN_WORDS` words), too long for ``cv_text``, too many pages, an archive
            beyond the bounds, or XML with a DTD.
    """
    if not data.strip():
        raise CvDocumentError("empty", "the document is empty")
    pages: int | None = None
    if media_type == PDF:
        raw, pages = _pdf_text(data)
    elif media_type == DOCX:
        raw = _docx_text(data)
    elif media_type == ODT:
        raw = _odt_text(data)
    elif media_type == TEXT:
        raw = _plain_text(data, charset)
    else:
        raise UnsupportedDocumentType(media_type)
    text = clean_text(raw)
    if not text:
        raise CvDocumentError("empty", "the document holds no text")
    words = count_words(text)
    if words < MIN_WORDS:
        raise CvDocumentError(
            "too_short", f"the document holds {words} words; a CV needs at least {MIN_WORDS}"
        )
    if len(text) > MAX_CV_CHARS:
        raise CvDocumentError(
            "too_long",
            f"the document's text has {len(text)} characters; cv_text holds at most {MAX_CV_CHARS}",
        )
    return ExtractedText(text, media_type, pages, len(text), words)
