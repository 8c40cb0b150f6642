"""Real CV documents for the tests, written with fpdf2 (PDF), python-docx and odfpy: a made-up
CV (no real person) in two columns with a table and Dutch diacritics, and the bad inputs the
CV-document route must refuse."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from fpdf import FPDF
from odf.opendocument import OpenDocumentText
from odf.style import Columns, SectionProperties, Style
from odf.table import Table, TableCell, TableColumn, TableRow
from odf.text import H, P, Section
from PIL import Image, ImageDraw

LEFT = (
    "Werkervaring",
    "Heftruckchauffeur bij een groothandel",
    "Laden en lossen, orderpicken en VCA basis.",
    "Rijbewijs B/C/CE",
)
RIGHT = (
    "Talen: Nederlands (moedertaal), Engels (redelijk)",
    "Opleiding: mbo niveau 2 Logistiek",
    "Beschikbaar voor 24 - 32 uur per week.",
    "Coördinatie van één café in Zuid-Holland; reïntegratie via de gemeente.",
)
TABLE = (
    ("Periode", "Functie", "Werkgever"),
    ("2015-2022", "Magazijnmedewerker", "Groothandel Noordelijk"),
    ("2012-2015", "Orderpicker", "Distributiecentrum Zuid"),
)
DIACRITICS = ("Coördinatie", "één café", "reïntegratie")


# ---------------------------------------------------------------- good documents


def make_pdf(
    left: Sequence[str] = LEFT,
    right: Sequence[str] = RIGHT,
    table: Sequence[Sequence[str]] = TABLE,
    *,
    user_password: str | None = None,
    owner_password: str | None = None,
    extra_pages: int = 0,
) -> bytes:
    """A one-page (plus ``extra_pages``) PDF: two columns side by side, then a table."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.set_xy(10, 20)
    pdf.multi_cell(90, 6, "\n".join(left))
    pdf.set_xy(110, 20)
    pdf.multi_cell(90, 6, "\n".join(right))
    if table:
        pdf.set_xy(10, 90)
        with pdf.table() as tbl:
            for row in table:
                cells = tbl.row()
                for value in row:
                    cells.cell(value)
    for i in range(extra_pages):
        pdf.add_page()
        pdf.cell(text=f"Bijlage {i + 1}: referenties op aanvraag beschikbaar bij de kandidaat.")
    if user_password is not None or owner_password is not None:
        pdf.set_encryption(owner_password=owner_password or "", user_password=user_password or "")
    return bytes(pdf.output())


def make_scan_pdf() -> bytes:
    """A PDF whose page is only a picture (a scan): no text layer."""
    image = Image.new("L", (400, 560), 255)
    draw = ImageDraw.Draw(image)
    for y in range(40, 520, 24):
        draw.rectangle((40, y, 360, y + 10), fill=30)  # lines of "text", as pixels
    pdf = FPDF()
    pdf.add_page()
    pdf.image(image, x=10, y=10, w=180)
    return bytes(pdf.output())


def make_docx(
    left: Sequence[str] = LEFT,
    right: Sequence[str] = RIGHT,
    table: Sequence[Sequence[str]] = TABLE,
) -> bytes:
    """A .docx in a two-column section (the left column's paragraphs first), then a table."""
    document = Document()
    columns = OxmlElement("w:cols")
    columns.set(qn("w:num"), "2")
    document.sections[0]._sectPr.append(columns)
    for line in (*left, *right):
        document.add_paragraph(line)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_odt(
    left: Sequence[str] = LEFT,
    right: Sequence[str] = RIGHT,
    table: Sequence[Sequence[str]] = TABLE,
) -> bytes:
    """An .odt with a two-column section, then a table."""
    document = OpenDocumentText()
    two = Style(name="TweeKolommen", family="section")
    props = SectionProperties()
    props.addElement(Columns(columncount=2))
    two.addElement(props)
    document.automaticstyles.addElement(two)
    section = Section(name="Kolommen", stylename=two)
    section.addElement(H(outlinelevel=1, text=left[0]))
    for line in (*left[1:], *right):
        section.addElement(P(text=line))
    document.text.addElement(section)
    if table:
        grid = Table(name="Ervaring")
        grid.addElement(TableColumn(numbercolumnsrepeated=len(table[0])))
        for row in table:
            tr = TableRow()
            for value in row:
                cell = TableCell()
                cell.addElement(P(text=value))
                tr.addElement(cell)
            grid.addElement(tr)
        document.text.addElement(grid)
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def make_text(
    left: Sequence[str] = LEFT, right: Sequence[str] = RIGHT, table: Sequence[Sequence[str]] = ()
) -> bytes:
    """The same CV as UTF-8 plain text (a table as rows of cells between " | ")."""
    return "\n".join([*left, *right, *(" | ".join(row) for row in table)]).encode()


# ---------------------------------------------------------------- hostile archives


def rezip(document: bytes, replace: dict[str, bytes], add: dict[str, bytes] | None = None) -> bytes:
    """``document`` (a zip) with some entries' content replaced and others added."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(document)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            dst.writestr(info.filename, replace.get(info.filename, src.read(info)))
        for name, data in (add or {}).items():
            dst.writestr(name, data)
    return out.getvalue()


def inflated_xml(document: bytes, part: str, megabytes: int) -> bytes:
    """A zip bomb of sorts: ``part`` padded with ``megabytes`` MB of spaces (compresses ~1000x)."""
    with zipfile.ZipFile(io.BytesIO(document)) as src:
        xml = src.read(part)
    head, _, tail = xml.partition(b"?>")
    return rezip(document, {part: head + b"?>" + b" " * (megabytes * 1_000_000) + tail})


def many_entries(document: bytes, count: int) -> bytes:
    return rezip(document, {}, {f"customXml/item{i}.bin": b"x" for i in range(count)})


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE office:document-content [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">
<office:body><office:text><text:p>&xxe;</text:p></office:text></office:body>
</office:document-content>"""
