"""schema.org ``JobPosting`` (JSON-LD) → ``VacancyIn``.

Employer portals and job boards publish vacancies as JobPosting documents. This module maps the
properties Werkmatch uses onto a vacancy and keeps every other property, unchanged, in
``extra_properties``, so nothing a client sent is lost. Values that cannot be mapped raise
:class:`JobPostingError` naming the JobPosting property (e.g. ``jobLocation.address.postalCode``),
which the HTTP layer turns into a 422.

Mapping (JobPosting → vacancy field):

- ``title`` → ``title``; ``description`` (HTML) → ``description`` as plain text
- ``hiringOrganization`` (Organization or text) → ``employer_name``
- ``jobLocation.address`` ``postalCode`` → ``postcode`` (Dutch addresses only),
  ``addressLocality`` → ``locality``; ``jobLocation.geo`` → ``lat``/``lon``
- ``workHours`` ("32 uur per week", "36-40 hours") → ``hours_per_week`` (the highest number)
- ``employmentType`` → ``employment_type``; VOLUNTEER also sets ``kind`` volunteer
- ``occupationalCategory`` (ISCO-08 code, label, "8344 Heftruckchauffeur" or CategoryCode)
  → ``occupation_code`` and/or ``occupation``
- ``skills`` (text, list, DefinedTerm) → ``skills``
- ``educationRequirements`` (Dutch level or EducationalOccupationalCredential) →
  ``education_level`` when recognised; otherwise the value is kept in ``extra_properties``
- ``validThrough`` → ``closes_on``; ``datePosted`` → ``posted_on``

Protected attributes are refused wherever they occur in the document (see
:mod:`service.protected`): a PeopleAudience's ``requiredGender`` or ``requiredMinAge``, a
Person's ``birthDate``, ``nationality`` or ``givenName``, and the ``name`` of a Person (e.g. a
Person as ``hiringOrganization`` or ``applicationContact``); the error names the property path.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from html.parser import HTMLParser
from typing import Any

from pydantic import ValidationError

from matching.geo import normalize_postcode
from service import protected
from service.json_bounds import MAX_JSON_DEPTH, free_json_problem
from service.store.models import MAX_DESCRIPTION_CHARS, VacancyIn

MEDIA_TYPE = "application/ld+json"

# The properties mapped onto vacancy fields; everything else goes to extra_properties.
MAPPED = frozenset(
    {
        "title",
        "description",
        "hiringOrganization",
        "jobLocation",
        "workHours",
        "employmentType",
        "occupationalCategory",
        "skills",
        "educationRequirements",
        "validThrough",
        "datePosted",
    }
)
_JSONLD_KEYWORDS = frozenset({"@context", "@type", "@id"})

# Back from a VacancyIn field (first part of a pydantic error location) to the JobPosting property.
_FIELD_TO_PROPERTY = {
    "title": "title",
    "description": "description",
    "employer_name": "hiringOrganization",
    "postcode": "jobLocation.address.postalCode",
    "locality": "jobLocation.address.addressLocality",
    "lat": "jobLocation.geo",
    "lon": "jobLocation.geo",
    "hours_per_week": "workHours",
    "employment_type": "employmentType",
    "kind": "employmentType",
    "occupation": "occupationalCategory",
    "occupation_code": "occupationalCategory",
    "skills": "skills",
    "education_level": "educationRequirements",
    "closes_on": "validThrough",
    "posted_on": "datePosted",
}


class JobPostingError(ValueError):
    """A JobPosting property that cannot be accepted; ``prop`` is its dotted path."""

    def __init__(self, prop: str, message: str) -> None:
        super().__init__(f"{prop}: {message}")
        self.prop = prop
        self.message = message


def is_jobposting(obj: object) -> bool:
    """True when ``obj`` declares itself a schema.org JobPosting (``@type``)."""
    if not isinstance(obj, dict):
        return False
    kind = obj.get("@type")
    return kind == "JobPosting" or (isinstance(kind, list) and "JobPosting" in kind)


# ---------------------------------------------------------------- HTML to text


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment: no tags, no scripts or styles, entities decoded."""

    _SKIP = frozenset({"script", "style", "template", "noscript", "head", "title", "iframe"})
    _BLOCK = frozenset(
        {"p", "div", "br", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment; markup is dropped, never interpreted or kept.

    Script, style and similar elements lose their content too; entities are decoded once (so
    ``&amp;lt;`` stays the literal text ``&lt;``); blank space collapses, one block per line.
    """
    parser = _TextExtractor()
    parser.feed(fragment)
    parser.close()
    text = "".join(parser.parts)
    lines = [re.sub(r"[ \t\r\f\v\xa0]+", " ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


# ---------------------------------------------------------------- property readers


def _shown(value: Any, limit: int = 40) -> str:
    """A value as an error message quotes it: short, so that an error never echoes a body."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(value: Any, prop: str) -> str:
    if not isinstance(value, str):
        raise JobPostingError(prop, f"expected text, got {type(value).__name__}")
    return value.strip()


def _one(value: Any) -> Any:
    """The first item of a JSON-LD value that may be a list."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _name_of(value: Any, prop: str) -> str | None:
    """Text, or the ``name`` of a Thing."""
    value = _one(value)
    if value is None:
        return None
    if isinstance(value, dict):
        name = value.get("name")
        return None if name is None else _text(name, f"{prop}.name") or None
    return _text(value, prop) or None


def _date(value: Any, prop: str) -> date:
    text = _text(value, prop)
    try:
        if "T" in text or " " in text:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        return date.fromisoformat(text)
    except ValueError:
        raise JobPostingError(
            prop, f"{_shown(text)} is not an ISO 8601 date or date-time"
        ) from None


_NUMBER = r"[-+]?\d+(?:[.,]\d+)?(?:[eE][-+]?\d+)?"
# A number of hours as the mapping reads it: '32', '32 uur', '32 uur per week', '36-40 hours per
# week', '24 tot 28 uur p/w'. Any other text (schema.org also allows '8am-5pm', 'night shift')
# is not a number of hours: it is kept verbatim in extra_properties, never read as one.
_HOURS_TEXT = re.compile(
    rf"^\s*(?P<low>{_NUMBER})(?:\s*(?:-|–|tot|to|t/m)\s*(?P<high>{_NUMBER}))?"
    r"(?:\s*(?:uur|u|hours?|hrs?|h))?"
    r"(?:\s*(?:per|/|p/?|a|in\s+de|in\s+a)\s*(?:week|wk|w))?\s*$",
    re.I,
)
_WHOLE = re.compile(r"^\d+$")


def _whole_hours(text: str, prop: str) -> int:
    if not _WHOLE.match(text) or not 1 <= int(text) <= 60:
        raise JobPostingError(
            prop, f"{_shown(text)} is not a whole number of hours per week from 1 to 60"
        )
    return int(text)


def _hours(value: Any, prop: str) -> tuple[int | None, bool]:
    """(hours per week, whether that says all the value says).

    A number, or a text that is a number or range of hours ('32-36 uur per week'), maps to its
    (highest) whole number of hours, 1–60; a sign, exponent or fraction is refused, never
    rounded or dropped. Text that is no number of hours maps to nothing (kept verbatim).
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not value.is_integer():
            raise JobPostingError(prop, f"{value} is not a whole number of hours per week")
        return _whole_hours(str(int(value)), prop), True
    match = _HOURS_TEXT.match(_text(value, prop))
    if match is None:
        return None, False
    low, high = match.group("low"), match.group("high")
    hours = [_whole_hours(n, prop) for n in (low, high) if n is not None]
    if len(hours) == 2 and hours[0] > hours[1]:
        raise JobPostingError(prop, f"the range {low}–{high} runs backwards")
    return max(hours), high is None  # a range says more than its highest number


_EMPLOYMENT_ALIASES = {
    "FULLTIME": "FULL_TIME",
    "PARTTIME": "PART_TIME",
    "VOLTIJD": "FULL_TIME",
    "DEELTIJD": "PART_TIME",
    "TIJDELIJK": "TEMPORARY",
    "STAGE": "INTERN",
    "VRIJWILLIG": "VOLUNTEER",
    "VRIJWILLIGERSWERK": "VOLUNTEER",
}
_EMPLOYMENT_TYPES = (
    "FULL_TIME",
    "PART_TIME",
    "CONTRACTOR",
    "TEMPORARY",
    "INTERN",
    "VOLUNTEER",
    "PER_DIEM",
    "OTHER",
)


def _employment_types(value: Any, prop: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for i, item in enumerate(items):
        where = f"{prop}.{i}" if isinstance(value, list) else prop
        raw = _text(item, where).upper().replace("-", "_").replace(" ", "_")
        raw = raw.removeprefix("HTTPS://SCHEMA.ORG/").removeprefix("HTTP://SCHEMA.ORG/")
        code = _EMPLOYMENT_ALIASES.get(raw.replace("_", ""), raw)
        if code not in _EMPLOYMENT_TYPES:
            raise JobPostingError(
                where,
                f"{_shown(item)} is not one of {', '.join(_EMPLOYMENT_TYPES)} (or voltijd, …)",
            )
        if code not in out:
            out.append(code)
    return out


_ISCO_CODE = re.compile(r"^(\d{1,4})(?:(?:\s*[-–:]\s*|\s+)(\D.*))?$", re.S)
_CATEGORY_KEYS = frozenset({"@type", "codeValue", "name", "inCodeSet"})


def _occupation(value: Any, prop: str) -> tuple[str | None, str | None]:
    """(ISCO-08 code, label) from text ('8344', '8344 Heftruckchauffeur', 'Kok') or CategoryCode."""
    value = _one(value)
    if value is None:
        return None, None
    if isinstance(value, dict):
        code = value.get("codeValue")
        name = value.get("name")
        code_text = None if code is None else _text(str(code), f"{prop}.codeValue")
        if code_text is not None and not re.fullmatch(r"\d{1,4}", code_text):
            raise JobPostingError(
                f"{prop}.codeValue", f"{_shown(code_text)} is not an ISCO-08 code"
            )
        return code_text, None if name is None else (_text(name, f"{prop}.name") or None)
    text = _text(value, prop)
    match = _ISCO_CODE.match(text)
    if match:
        return match.group(1), (match.group(2) or "").strip() or None
    if re.match(r"^\d", text):  # a number that is no ISCO-08 code is no label either
        raise JobPostingError(
            prop, f"{_shown(text)} is not an ISCO-08 code (1–4 digits), alone or before a label"
        )
    return None, text or None


def _skills(value: Any, prop: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for i, item in enumerate(items):
        where = f"{prop}.{i}" if isinstance(value, list) else prop
        name = item.get("name") if isinstance(item, dict) else item
        text = _text(name, where)
        # A single text is often a comma- or line-separated list.
        pieces = re.split(r"[,;\n•]", text) if not isinstance(value, list) else [text]
        out.extend(p.strip() for p in pieces if p.strip())
    return list(dict.fromkeys(out))


_EDUCATION_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bmbo[\s-]*(?:niveau\s*)?([1-4])\b", re.I), "mbo{}"),
    (re.compile(r"\b(?:mbo\s*)?niveau\s*([1-4])\b", re.I), "mbo{}"),
    (re.compile(r"\bvmbo\b", re.I), "vmbo"),
    (re.compile(r"\bhavo\b", re.I), "havo"),
    (re.compile(r"\bvwo\b", re.I), "vwo"),
    (re.compile(r"\bhbo\b|\bbachelor", re.I), "hbo"),
    (re.compile(r"\bwo\b|\bmaster|\buniversit|postgraduate", re.I), "wo"),
    (re.compile(r"\bbasisonderwijs\b|\bprimary school\b", re.I), "basisonderwijs"),
    (re.compile(r"\bassociate degree\b", re.I), "mbo4"),
]


def _education(value: Any, prop: str) -> str | None:
    """A Werkmatch education level, or None when the text names none we recognise."""
    value = _one(value)
    if value is None:
        return None
    if isinstance(value, dict):
        text = " ".join(
            str(value[k]) for k in ("credentialCategory", "name", "educationalLevel") if k in value
        )
    else:
        text = _text(value, prop)
    for pattern, level in _EDUCATION_PATTERNS:
        match = pattern.search(text)
        if match:
            return level.format(*match.groups())
    return None


_PLACE_KEYS = frozenset({"@type", "address", "geo"})
_ADDRESS_KEYS = frozenset({"@type", "postalCode", "addressLocality", "addressCountry"})
_GEO_KEYS = frozenset({"@type", "latitude", "longitude"})


def _location(value: Any, prop: str) -> tuple[dict[str, Any], bool]:
    """(postcode / locality / lat / lon from the first Place in ``jobLocation``, whether they
    say all the value says: one Place, a Dutch address of those parts only, a whole geo)."""
    place = _one(value)
    if place is None:
        return {}, True
    if not isinstance(place, dict):
        raise JobPostingError(prop, "expected a Place object with an address")
    out: dict[str, Any] = {}
    whole = not (isinstance(value, list) and len(value) > 1) and set(place) <= _PLACE_KEYS
    address = place.get("address")
    if isinstance(address, dict):
        whole = whole and set(address) <= _ADDRESS_KEYS
        country = address.get("addressCountry")
        if isinstance(country, dict):
            country = country.get("name")
        dutch = country is None or str(country).strip().upper() in {
            "NL",
            "NLD",
            "NEDERLAND",
            "NETHERLANDS",
            "THE NETHERLANDS",
        }
        code = address.get("postalCode")
        whole = whole and (dutch or code is None)
        if code is not None and dutch:
            try:
                out["postcode"] = normalize_postcode(_text(code, f"{prop}.address.postalCode"))
            except ValueError as exc:
                raise JobPostingError(f"{prop}.address.postalCode", str(exc)) from None
        locality = address.get("addressLocality")
        if locality is not None:
            out["locality"] = _text(locality, f"{prop}.address.addressLocality") or None
    elif address is not None:
        if not isinstance(address, str):
            raise JobPostingError(f"{prop}.address", "expected a PostalAddress object or text")
        whole = False  # an address as text: kept, not parsed
    geo = place.get("geo")
    if geo is not None:
        if not isinstance(geo, dict):
            raise JobPostingError(f"{prop}.geo", "expected a GeoCoordinates object")
        if ("latitude" in geo) != ("longitude" in geo):
            raise JobPostingError(f"{prop}.geo", "latitude and longitude must be given together")
        whole = whole and set(geo) <= _GEO_KEYS
        if "latitude" in geo:
            try:
                out["lat"], out["lon"] = float(geo["latitude"]), float(geo["longitude"])
            except (TypeError, ValueError):
                raise JobPostingError(
                    f"{prop}.geo", "latitude and longitude must be numbers"
                ) from None
    return out, whole


# ---------------------------------------------------------------- the mapping


def _plain_thing(value: Any, keys: frozenset[str]) -> bool:
    """Whether a JSON-LD value is one text, or one object with only ``keys`` (what a mapping
    reads): then its vacancy fields say all it says."""
    if isinstance(value, list):
        if len(value) > 1:
            return False
        value = value[0] if value else None
    return not isinstance(value, dict) or set(value) <= keys


def _check_envelope(doc: Any) -> None:
    if not isinstance(doc, dict):
        raise JobPostingError("@type", "the body must be one JobPosting object")
    if not is_jobposting(doc):
        raise JobPostingError("@type", f"expected 'JobPosting', got {_shown(doc.get('@type'))}")
    if "@context" in doc and "schema.org" not in str(doc["@context"]):  # also when null
        raise JobPostingError("@context", "must refer to https://schema.org")


def to_vacancy_fields(doc: Any) -> dict[str, Any]:
    """The VacancyIn fields of a JobPosting document (not yet validated as a VacancyIn).

    Raises:
        JobPostingError: a property is missing, of the wrong type, or has an unusable value.
    """
    _check_envelope(doc)
    for loc, key, category in protected.find_in_jsonld(doc):
        raise JobPostingError(".".join(map(str, loc)), protected.message(key, category))
    for required in ("title", "description"):
        if required not in doc:
            raise JobPostingError(required, "required")
    fields: dict[str, Any] = {"title": _text(doc["title"], "title")}
    raw_description = _text(doc["description"], "description")
    if len(raw_description) > 4 * MAX_DESCRIPTION_CHARS:
        raise JobPostingError("description", f"longer than {4 * MAX_DESCRIPTION_CHARS} characters")
    fields["description"] = html_to_text(raw_description)
    extra = {k: v for k, v in doc.items() if k not in MAPPED and k not in _JSONLD_KEYWORDS}

    # A mapped property whose value says more than its vacancy fields can hold (a second Place,
    # an Organization's sameAs, an address as text, a range of hours) is also kept verbatim.
    kept: list[str] = []
    if "hiringOrganization" in doc:
        org = doc["hiringOrganization"]
        fields["employer_name"] = _name_of(org, "hiringOrganization")
        if not _plain_thing(org, frozenset({"@type", "name"})):
            kept.append("hiringOrganization")
    if "jobLocation" in doc:
        place, whole = _location(doc["jobLocation"], "jobLocation")
        fields.update(place)
        if not whole:
            kept.append("jobLocation")
    if "workHours" in doc:
        fields["hours_per_week"], whole = _hours(doc["workHours"], "workHours")
        if not whole:
            kept.append("workHours")
    if "employmentType" in doc:
        types = _employment_types(doc["employmentType"], "employmentType")
        fields["employment_type"] = types
        if "VOLUNTEER" in types:
            fields["kind"] = "volunteer"
    if "occupationalCategory" in doc:
        category = doc["occupationalCategory"]
        code, label = _occupation(category, "occupationalCategory")
        fields["occupation_code"], fields["occupation"] = code, label
        if not _plain_thing(category, _CATEGORY_KEYS):
            kept.append("occupationalCategory")
    if "skills" in doc:
        fields["skills"] = _skills(doc["skills"], "skills")
        terms = doc["skills"] if isinstance(doc["skills"], list) else [doc["skills"]]
        if not all(_plain_thing(t, frozenset({"@type", "name"})) for t in terms):
            kept.append("skills")
    if "educationRequirements" in doc:
        level = _education(doc["educationRequirements"], "educationRequirements")
        if level is None or not _plain_thing(doc["educationRequirements"], frozenset()):
            extra["educationRequirements"] = doc["educationRequirements"]
        fields["education_level"] = level
    if "validThrough" in doc:
        fields["closes_on"] = _date(doc["validThrough"], "validThrough")
    if "datePosted" in doc:
        fields["posted_on"] = _date(doc["datePosted"], "datePosted")
    extra.update((prop, doc[prop]) for prop in kept)
    for key, value in extra.items():
        # Kept one level deeper than sent (inside extra_properties), and only within bounds.
        problem = free_json_problem(value, MAX_JSON_DEPTH - 2)
        if problem is not None:
            raise JobPostingError(key, problem)
    fields["extra_properties"] = extra or None
    return fields


def to_vacancy(doc: Any) -> VacancyIn:
    """A validated VacancyIn from a JobPosting document.

    Raises:
        JobPostingError: naming the JobPosting property at fault.
    """
    fields = to_vacancy_fields(doc)
    try:
        return VacancyIn.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(p) for p in first["loc"]]
        prop = _FIELD_TO_PROPERTY.get(loc[0], loc[0]) if loc else "body"
        raise JobPostingError(prop, first["msg"]) from None


JOBPOSTING_SCHEMA: dict[str, Any] = {
    "title": "JobPosting",
    "description": (
        "A schema.org JobPosting (JSON-LD). Mapped properties are listed; any other property is "
        "kept in the vacancy's extra_properties. Protected attributes are refused at any depth "
        "(422): e.g. requiredGender or requiredMinAge, birthDate, nationality, or the name of a "
        "Person."
    ),
    "type": "object",
    "required": ["@type", "title", "description"],
    "properties": {
        "@context": {
            "anyOf": [
                {"type": "string", "pattern": "schema\\.org"},
                {"type": "array"},
                {"type": "object"},
            ],
            "description": "A JSON-LD context that refers to https://schema.org.",
            "example": "https://schema.org",
        },
        "@type": {"type": "string", "enum": ["JobPosting"]},
        "title": {"type": "string"},
        "description": {"type": "string", "description": "HTML allowed; stored as plain text."},
        # JSON-LD: a value may be a list (the first item is mapped) or null (ignored).
        "hiringOrganization": {"type": ["string", "object", "array", "null"]},
        "jobLocation": {
            "type": ["object", "array", "null"],
            "description": "Place with a PostalAddress.",
        },
        "workHours": {"oneOf": [{"type": "string"}, {"type": "number"}]},
        "employmentType": {
            "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
        },
        "occupationalCategory": {"type": ["string", "object", "array", "null"]},
        "skills": {"type": ["string", "array", "object"]},
        "educationRequirements": {"type": ["string", "object", "array", "null"]},
        "validThrough": {"type": "string", "format": "date-time"},
        "datePosted": {"type": "string", "format": "date"},
    },
    "additionalProperties": True,
}

JOBPOSTING_EXAMPLE: dict[str, Any] = {
    "@context": "https://schema.org",
    "@type": "JobPosting",
    "title": "Heftruckchauffeur (m/v) 32 uur",
    "description": "<p>Voor ons distributiecentrum zoeken wij een <b>heftruckchauffeur</b>.</p>",
    "hiringOrganization": {"@type": "Organization", "name": "Voorbeeld Logistiek B.V."},
    "jobLocation": {
        "@type": "Place",
        "address": {
            "@type": "PostalAddress",
            "postalCode": "2983 AB",
            "addressLocality": "Ridderkerk",
            "addressCountry": "NL",
        },
    },
    "workHours": "32 uur per week",
    "employmentType": "PART_TIME",
    "occupationalCategory": "8344 Heftruckchauffeur",
    "skills": "heftruck rijden, laden en lossen",
    "educationRequirements": "mbo niveau 2",
    "validThrough": "2026-12-31T23:59:59+01:00",
    "datePosted": "2026-11-20",
    "baseSalary": {"@type": "MonetaryAmount", "currency": "EUR"},
}
