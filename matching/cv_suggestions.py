"""Profile fields a CV's text suggests: driving licence, languages, education level, hours and
occupations, each with the span of text it was read from.

Pure text parsing (no database, no HTTP). These are *suggestions*: a caseworker confirms each
before it becomes part of the profile, because hard filters (licence, hours, travel) must rest
only on confirmed facts. A field the profile already holds is never suggested again.

Spans are character offsets into the text passed in, so ``text[start:end] == snippet``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from matching.occupations import (
    STRING_THRESHOLDS,
    FusedNormalizer,
    OccupationNormalizer,
    title_words,
)

SuggestionField = Literal[
    "desired_occupations", "driving_licence", "languages", "education_level", "hours_per_week"
]

EDUCATION_ORDER = (
    "basisonderwijs",
    "vmbo",
    "mbo1",
    "mbo2",
    "mbo3",
    "mbo4",
    "havo",
    "vwo",
    "hbo",
    "wo",
)
"""The profile's education levels, lowest first (as ``service.store.models.EducationLevel``)."""

OCCUPATION_MIN_SCORE = STRING_THRESHOLDS.suggest
"""A CV line is proposed as an occupation only at this string normalisation score or above:
free CV text is noisier than a desired-occupation field. The fused normaliser's scores have
their own (``FusedNormalizer.thresholds``); :func:`infer_occupations` uses its normaliser's."""
MAX_OCCUPATIONS = 5
INFER_MIN_SCORE = STRING_THRESHOLDS.infer
"""Occupations stored as read from the text (``inferred_occupations``) need this string score
(``thresholds.infer`` of the normaliser in use): unlike a suggestion, nobody confirms them
before focus membership and ranking use them."""


@dataclass(frozen=True)
class Evidence:
    """Where a suggestion was read: ``text[start:end] == snippet``; ``context`` is its line."""

    start: int
    end: int
    snippet: str
    context: str


@dataclass(frozen=True)
class Suggestion:
    """A proposed profile change. ``update`` holds the candidate fields an acceptance sets,
    computed against the profile given (list fields: the whole list with ``value`` added)."""

    field: SuggestionField
    value: Any
    label: str
    evidence: Evidence
    update: dict[str, Any]
    score: float | None = None


@dataclass(frozen=True)
class ProfileFacts:
    """The confirmed profile fields that decide what is still worth suggesting."""

    driving_licence: bool = False
    languages: Sequence[str] = ()
    education_level: str | None = None
    hours_per_week_min: int | None = None
    hours_per_week_max: int | None = None
    desired_occupations: Sequence[str] = ()
    desired_esco_uris: Sequence[str] = field(default_factory=tuple)


# ---------------------------------------------------------------- spans and lines


def _line_at(text: str, start: int, end: int) -> str:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    return text[line_start : line_end if line_end >= 0 else len(text)].strip()


def _evidence(text: str, start: int, end: int) -> Evidence:
    return Evidence(start, end, text[start:end], _line_at(text, start, end))


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """(offset, line) for every line of ``text``."""
    offset = 0
    for line in text.split("\n"):
        yield offset, line
        offset += len(line) + 1


_NEGATION = re.compile(r"(?i)\b(geen|zonder|niet|no|without|not)\b")


def _negated(text: str, start: int, end: int) -> bool:
    """Whether the clause around a match denies it ("geen rijbewijs", "hbo, niet afgerond")."""
    before = re.split(r"[\n,;.]", text[max(0, start - 25) : start])[-1]
    after = re.split(r"[\n,;.]", text[end : end + 40])[0]
    return bool(_NEGATION.search(before) or _UNFINISHED.search(after))


_UNFINISHED = re.compile(
    r"(?i)\b(niet afgerond|onvoltooid|zonder diploma|afgebroken|gestopt|not completed)\b"
)

# ---------------------------------------------------------------- driving licence

_CATEGORY = r"(?:AM|A1|A2|BE|B|C1E|C1|CE|C|D1E|D1|DE|D|T)"
_CATEGORY_LIST = rf"{_CATEGORY}(?:\s*(?:[,/+&]|\ben\b|\band\b)\s*{_CATEGORY})*"
_LICENCE = re.compile(
    rf"(?:(?i:rijbewijs|rijbewijzen|driving\s+licen[cs]e|driver'?s\s+licen[cs]e)"
    rf"(?:\s*:)?(?:\s+(?i:categorie|category|cat\.))?(?:\s*:)?\s*(?P<cats>{_CATEGORY_LIST})\b"
    rf"|\b(?P<pre>{_CATEGORY})-(?i:rijbewijs))"
)


def _driving_licence(text: str, facts: ProfileFacts) -> list[Suggestion]:
    if facts.driving_licence:
        return []
    categories: list[str] = []
    first: re.Match[str] | None = None
    for m in _LICENCE.finditer(text):
        if _negated(text, m.start(), m.end()):
            continue
        found = re.findall(_CATEGORY, m.group("cats") or m.group("pre") or "")
        categories += [c for c in found if c not in categories]
        first = first or m
    if first is None:
        return []
    return [
        Suggestion(
            field="driving_licence",
            value=True,
            label="rijbewijs " + ", ".join(categories),
            evidence=_evidence(text, first.start(), first.end()),
            update={"driving_licence": True},
        )
    ]


# ---------------------------------------------------------------- languages

LANGUAGE_NAMES: dict[str, str] = {
    "nederlands": "nl",
    "dutch": "nl",
    "vlaams": "nl",
    "engels": "en",
    "english": "en",
    "duits": "de",
    "german": "de",
    "frans": "fr",
    "french": "fr",
    "spaans": "es",
    "spanish": "es",
    "italiaans": "it",
    "portugees": "pt",
    "pools": "pl",
    "polish": "pl",
    "turks": "tr",
    "turkish": "tr",
    "arabisch": "ar",
    "arabic": "ar",
    "berbers": "ber",
    "tamazight": "ber",
    "papiaments": "pap",
    "russisch": "ru",
    "oekraïens": "uk",
    "roemeens": "ro",
    "bulgaars": "bg",
    "hongaars": "hu",
    "somalisch": "so",
    "tigrinya": "ti",
    "tigrinja": "ti",
    "farsi": "fa",
    "perzisch": "fa",
    "dari": "prs",
    "koerdisch": "ku",
    "chinees": "zh",
    "mandarijn": "zh",
    "hindi": "hi",
    "grieks": "el",
    "litouws": "lt",
    "lets": "lv",
}
LANGUAGE_LABELS = {
    "nl": "Nederlands",
    "en": "Engels",
    "de": "Duits",
    "fr": "Frans",
    "es": "Spaans",
    "it": "Italiaans",
    "pt": "Portugees",
    "pl": "Pools",
    "tr": "Turks",
    "ar": "Arabisch",
    "ber": "Berbers",
    "pap": "Papiaments",
    "ru": "Russisch",
    "uk": "Oekraïens",
    "ro": "Roemeens",
    "bg": "Bulgaars",
    "hu": "Hongaars",
    "so": "Somalisch",
    "ti": "Tigrinya",
    "fa": "Perzisch",
    "prs": "Dari",
    "ku": "Koerdisch",
    "zh": "Chinees",
    "hi": "Hindi",
    "el": "Grieks",
    "lt": "Litouws",
    "lv": "Lets",
}
_LANGUAGE = re.compile(
    r"(?i)(?<![\w-])(" + "|".join(sorted(LANGUAGE_NAMES, key=len, reverse=True)) + r")(?![\w-])"
)
# A language name counts only where the line speaks of language skill, or under a languages
# heading: "Turks" elsewhere may be a nationality, which is neither a skill nor ours to record.
_LANGUAGE_CONTEXT = re.compile(
    r"(?i)\b(talen|taal|talenkennis|taalvaardigheid|languages?|moedertaal|native|spreek\w*|"
    r"spreken|schrijven|lezen|vloeiend|fluent|goed|redelijk|matig|basis|uitstekend|"
    r"[ABC][12])\b"
)
_LANGUAGE_HEADING = re.compile(r"(?i)^\W*(talen|talenkennis|taalvaardigheid|languages)\W*$")
_NOT_LANGUAGE = re.compile(r"(?i)(nationaliteit|nationality|geboren|born|afkomst|herkomst)")


def _languages(text: str, facts: ProfileFacts) -> list[Suggestion]:
    have = {code.lower() for code in facts.languages}
    out: list[Suggestion] = []
    under_heading = 0
    for offset, line in _lines(text):
        if _LANGUAGE_HEADING.match(line.strip()):
            under_heading = 6
            continue
        if _NOT_LANGUAGE.search(line):
            under_heading = max(under_heading - 1, 0)
            continue
        matches = list(_LANGUAGE.finditer(line))
        in_context = under_heading > 0 or _LANGUAGE_CONTEXT.search(_LANGUAGE.sub("", line))
        under_heading = max(under_heading - 1, 0) if line.strip() else under_heading
        if not matches or not in_context:
            continue
        for m in matches:
            code = LANGUAGE_NAMES[m.group(1).lower()]
            if code in have:
                continue
            have.add(code)
            out.append(
                Suggestion(
                    field="languages",
                    value=code,
                    label=LANGUAGE_LABELS.get(code, m.group(1)),
                    evidence=_evidence(text, offset + m.start(), offset + m.end()),
                    update={"languages": [*facts.languages, code]},
                )
            )
    return out


# ---------------------------------------------------------------- education level

_EDUCATION: tuple[tuple[re.Pattern[str], str | None], ...] = (
    # mbo with its level: "mbo niveau 2", "MBO-3", "mbo 4", "BBL niveau 2", "niveau 2 (mbo)",
    # "MBO Logistiek niveau 2"
    (
        re.compile(
            r"(?i)\b(?:mbo|bol|bbl)[\s-]*(?:niveau|level|nivo)?[\s-]*(?P<lvl>[1-4])\b"
            r"|\bniveau\s*(?P<lvl2>[1-4])\s*\(?\s*(?:mbo|bol|bbl)\b"
            r"|\b(?:mbo|bol|bbl)\b[^\n]{0,40}?\b(?:niveau|level)\s*(?P<lvl3>[1-4])\b"
        ),
        None,
    ),
    (re.compile(r"(?i)\bentree[\s-]*(?:opleiding|niveau)?\b"), "mbo1"),
    (
        re.compile(r"(?i:\b(?:universiteit|university|wetenschappelijk onderwijs)\b)|\bWO\b"),
        "wo",
    ),
    (re.compile(r"(?i)\b(?:hbo|hogeschool|bachelor)\b"), "hbo"),
    (re.compile(r"(?i)\b(?:vwo|atheneum|gymnasium)\b"), "vwo"),
    (re.compile(r"(?i)\bhavo\b"), "havo"),
    (re.compile(r"(?i)\b(?:vmbo|mavo|lbo|vbo)\b"), "vmbo"),
    (re.compile(r"(?i)\b(?:basisschool|basisonderwijs|lagere school)\b"), "basisonderwijs"),
)


def _education(text: str, facts: ProfileFacts) -> list[Suggestion]:
    if facts.education_level is not None:
        return []
    best: tuple[int, str, int, int] | None = None
    for pattern, level in _EDUCATION:
        for m in pattern.finditer(text):
            if _negated(text, m.start(), m.end()):
                continue
            found = level or "mbo" + next(v for k, v in m.groupdict().items() if v and "lvl" in k)
            rank = EDUCATION_ORDER.index(found)
            if best is None or rank > best[0]:
                best = (rank, found, m.start(), m.end())
    if best is None:
        return []
    _, level, start, end = best
    label = f"mbo niveau {level[3]}" if level.startswith("mbo") else level
    return [
        Suggestion(
            field="education_level",
            value=level,
            label=label,
            evidence=_evidence(text, start, end),
            update={"education_level": level},
        )
    ]


# ---------------------------------------------------------------- hours

_PER_WEEK = r"(?:per\s+week|p\.?\s?w\.?|/\s*(?:week|wk)|in\s+de\s+week|a\s+week|per\s+wk)"
_HOURS = re.compile(
    rf"(?i)\b(?P<lo>\d{{1,2}})\s*(?:-|–|tot|t/m|à|a)\s*(?P<hi>\d{{1,2}})\s*(?:uur|u\b|hours)"
    rf"(?:\s*{_PER_WEEK})?"
    rf"|\b(?P<one>\d{{1,2}})\s*(?:uur|u\b|hours)(?:\s*{_PER_WEEK})?"
    rf"|\b(?P<full>full[\s-]?time|fulltime|voltijd)\b"
)
_HOURS_CONTEXT = re.compile(
    r"(?i)\b(beschikbaar\w*|beschikbaarheid|availability|available|wil\s+werken|"
    r"zoek\w*|uren|werktijden|inzetbaar)\b"
)


def _hours(text: str, facts: ProfileFacts) -> list[Suggestion]:
    if facts.hours_per_week_min is not None or facts.hours_per_week_max is not None:
        return []
    for offset, line in _lines(text):
        for m in _HOURS.finditer(line):
            per_week = re.search(_PER_WEEK, m.group(0), re.IGNORECASE) is not None
            if not (per_week or _HOURS_CONTEXT.search(line)):
                continue  # "diensten van 8 uur": hours, but not what the candidate seeks
            if m.group("full"):
                lo, hi = 36, 40
            elif m.group("one"):
                lo = hi = int(m.group("one"))
            else:
                lo, hi = int(m.group("lo")), int(m.group("hi"))
            if not (1 <= lo <= hi <= 60):
                continue
            label = f"{lo} uur per week" if lo == hi else f"{lo}–{hi} uur per week"
            update = {"hours_per_week_min": lo, "hours_per_week_max": hi}
            return [
                Suggestion(
                    field="hours_per_week",
                    value=update,
                    label=label,
                    evidence=_evidence(text, offset + m.start(), offset + m.end()),
                    update=update,
                )
            ]
    return []


# ---------------------------------------------------------------- occupations

_SEGMENT_SPLIT = re.compile(
    r"\s*(?:[|;•·:()\t!?]|\.(?:\s|$)|\s[-–]\s|,|\b(?:bij|at|met|en|in|op|te|sinds)\b|\d{4})\s*",
    re.IGNORECASE,
)
# "werkervaring als magazijnmedewerker", "werkzaam als X", "ik werk(te) als X", "functie: X",
# "in de functie van X": the words after the cue name a job, up to the clause's end.
_PHRASE = re.compile(
    r"(?i)\b(?:(?:(?:werk)?ervaring|werkzaam|gewerkt|werk(?:te|t|en)?|actief|aan\s+de\s+slag|"
    r"ingezet|begonnen|gestart|jaar|jaren|maanden|experience|worked|working)"
    r"(?:\s+(?:ik|hij|zij|ook|daarna|toen|nog|eerst|vooral))*\s+als\s+"
    r"|\b(?:in\s+de\s+)?functie(?:\s+van|\s*:)\s*"
    r"|\b(?:ik\s+ben|i\s+am\s+an?)\s+)"
)
_PHRASE_END = re.compile(
    r"(?i)[\n,;.:()|!?]|\s(?:bij|in|te|at|voor|met|en|van|sinds|op|aan|naar|om|die|dat|waar|"
    r"tot|gewerkt|geweest|gedaan)\b"
)
# A job title never starts with an article or a preposition: "een supermarkt", "in een
# verpleeghuis", "de huisarts" name a place or a colleague, not the candidate's work.
_NOT_A_TITLE_START = re.compile(
    r"(?i)^(?:een|de|het|in|op|bij|naar|voor|met|van|aan|uit|om|door|over|onder|tot|the|an?)\b"
)
# Words that lead into a title in running text ("toen was ik heftruckchauffeur").
_LEAD_IN = re.compile(
    r"(?i)^(?:(?:ik|was|ben|werd|daarna|toen|eerst|nu|later|daar|hier|ook|al|nog|als|"
    r"vervolgens|sinds|tevens)\s+)+"
)
_FIRST_WORDS = re.compile(r"[^\W\d_][\w'-]*(?:[ \t]+[^\W\d_][\w'-]*){0,3}")
# Certificates and skills that only one occupation has: a forklift certificate says "forklift
# driver" even where the CV never writes that title. The title on the right is what the
# normaliser looks up; the certificate is the evidence.
CUES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"(?i)\b(?:vork)?heftruck\s*-?(?:certificaat|diploma|rijbewijs|bewijs|ervaring|"
            r"cursus|opleiding)\w*|\b(?:certificaat|diploma|rijbewijs)\s+(?:vork)?heftruck\b"
        ),
        "heftruckchauffeur",
    ),
    (
        re.compile(
            r"(?i)\breachtruck\s*-?(?:certificaat|diploma|rijbewijs|bewijs|ervaring|cursus|"
            r"opleiding)\w*|\b(?:certificaat|diploma|rijbewijs)\s+reachtruck\b"
        ),
        "reachtruckchauffeur",
    ),
    (re.compile(r"(?i)\borderpick(?:en|ervaring)\b"), "orderpicker"),
    (re.compile(r"(?i)\blas(?:certificaat|diploma|brevet)\w*"), "lasser"),
)
CUE_FACTOR = 0.9
"""A cue's score is its title's normalisation score times this: a certificate makes the
occupation likely, not certain."""
VACANCY_MAX_OCCUPATIONS = 2


@dataclass(frozen=True)
class InferredOccupation:
    """An ESCO occupation read from a text, with the span that says so.

    ``via``: "title" (a line or a piece of one reads as a job title), "phrase" (the words after
    "werkervaring als", "werkzaam als", "functie:" ...) or "cue" (a certificate or skill that
    only that occupation has, such as "heftruckcertificaat").
    """

    uri: str
    preferred_label: str
    isco_code: str | None
    score: float
    evidence: Evidence
    via: Literal["title", "phrase", "cue"]


# Separators after which a title may start (a list, a heading, a date, a new sentence); after
# ",", "en", "met", "bij" the text goes on about the previous one ("overleg met familie,
# wijkverpleegkundige en huisarts" names colleagues, not the candidate's work).
_TITLE_AFTER = re.compile(r"[|;•·:()\t!?.]|\s[-–]\s|\d{4}")


def _title_segments(text: str) -> list[tuple[int, int, str]]:
    """Short pieces of lines that may be job titles, with their offsets: the start of a line
    or sentence, or what follows a list or heading separator."""
    out = []
    for offset, line in _lines(text):
        pieces: list[tuple[int, int, bool]] = []  # start, end, may open a title
        pos, opens = 0, True
        for sep in _SEGMENT_SPLIT.finditer(line):
            pieces.append((pos, sep.start(), opens))
            pos, opens = sep.end(), bool(_TITLE_AFTER.search(sep.group(0)))
        pieces.append((pos, len(line), opens))
        for start, end, may_open in pieces:
            part = line[start:end]
            stripped = part.strip(" .-–")
            lead = _LEAD_IN.match(stripped)
            if lead:
                stripped = stripped[lead.end() :]
            if (
                not may_open
                or not stripped
                or len(stripped) > 60
                or _NOT_A_TITLE_START.match(stripped)
            ):
                continue
            words = title_words(stripped)
            if 1 <= len(words) <= 4:
                begin = offset + start + part.find(stripped)
                out.append((begin, begin + len(stripped), stripped))
    return out


def _phrases(text: str) -> list[tuple[int, int, str]]:
    """The job named after a cue such as "werkervaring als" (its offsets and text)."""
    out = []
    for m in _PHRASE.finditer(text):
        start = m.end()
        stop = _PHRASE_END.search(text, start)
        clause = text[start : stop.start() if stop else len(text)]
        words = _FIRST_WORDS.match(clause)
        if words is None:
            continue
        piece = words.group(0).rstrip(" .-–")
        if title_words(piece):
            out.append((start, start + len(piece), piece))
    return out


def infer_occupations(
    text: str,
    normalizer: OccupationNormalizer | FusedNormalizer,
    *,
    limit: int = MAX_OCCUPATIONS,
    min_score: float | None = None,
    exclude: Collection[str] = (),
) -> list[InferredOccupation]:
    """The ESCO occupations ``text`` (a CV, or a vacancy's title or text) names, best first.

    Three readers propose spans: job-title-like pieces of lines, the words after phrases
    such as "werkervaring als" / "werkzaam als", and certificate cues (:data:`CUES`). Every
    proposal is normalised in one batch (``OccupationNormalizer.best_concepts``); a
    proposal keeps its best concept when the score (times :data:`CUE_FACTOR` for a cue) is
    at least ``min_score``. Per occupation the best proposal is kept (the earliest on a tie).

    Args:
        text: the text read; evidence offsets index it (``text[start:end] == snippet``).
        min_score: None: ``normalizer.thresholds.suggest`` (its scale's suggestion threshold).
        exclude: URIs not to report (what the profile states already).
    Returns:
        At most ``limit`` occupations, by score descending, then by where they are read.
    """
    proposals: list[tuple[int, int, str, str, float]] = []  # start, end, title, via, factor
    for start, end, piece in _phrases(text):
        proposals.append((start, end, piece, "phrase", 1.0))
    for start, end, segment in _title_segments(text):
        proposals.append((start, end, segment, "title", 1.0))
    for pattern, title in CUES:
        for m in pattern.finditer(text):
            if not _negated(text, m.start(), m.end()):
                proposals.append((m.start(), m.end(), title, "cue", CUE_FACTOR))
    if not proposals or limit < 1:
        return []
    if min_score is None:
        min_score = normalizer.thresholds.suggest
    titles = list(dict.fromkeys(p[2] for p in proposals))
    best, top = normalizer.best_concepts(titles, min_score)
    row_of = {t: i for i, t in enumerate(titles)}
    found: dict[str, InferredOccupation] = {}
    skip = set(exclude)
    for start, end, title, via, factor in proposals:
        row = row_of[title]
        ci = int(best[row])
        score = round(float(top[row]) * factor, 4)
        if ci < 0 or score < min_score:
            continue
        concept = normalizer.concepts[ci]
        if concept.uri in skip:
            continue
        current = found.get(concept.uri)
        if current is not None and (current.score, -current.evidence.start) >= (score, -start):
            continue
        found[concept.uri] = InferredOccupation(
            uri=concept.uri,
            preferred_label=concept.preferred_label,
            isco_code=concept.isco_code,
            score=score,
            evidence=_evidence(text, start, end),
            via=via,  # type: ignore[arg-type]  # proposals carry title, phrase or cue only
        )
    ranked = sorted(found.values(), key=lambda o: (-o.score, o.evidence.start))
    return ranked[:limit]


def _occupations(
    text: str, facts: ProfileFacts, normalizer: OccupationNormalizer | FusedNormalizer | None
) -> list[Suggestion]:
    if normalizer is None:
        return []
    have_labels = {o.strip().lower() for o in facts.desired_occupations}
    found: list[Suggestion] = []
    for occ in infer_occupations(text, normalizer, exclude=facts.desired_esco_uris):
        label = occ.preferred_label
        if label.lower() in have_labels:
            continue
        found.append(
            Suggestion(
                field="desired_occupations",
                value=label,
                label=label,
                evidence=occ.evidence,
                update={"desired_occupations": [*facts.desired_occupations, label]},
                score=occ.score,
            )
        )
    return found


def suggest(
    text: str, facts: ProfileFacts, normalizer: OccupationNormalizer | FusedNormalizer | None = None
) -> list[Suggestion]:
    """Every suggestion for a profile with ``facts`` from CV ``text``, in field order:
    occupations (best first, at most :data:`MAX_OCCUPATIONS`; only with a normaliser),
    driving licence, languages, education level (the highest found), hours."""
    return [
        *_occupations(text, facts, normalizer),
        *_driving_licence(text, facts),
        *_languages(text, facts),
        *_education(text, facts),
        *_hours(text, facts),
    ]
