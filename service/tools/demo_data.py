"""Made-up demo data for Werkmatch: focus occupations, candidates with CVs, and vacancies.

Everything here is invented. The data is composed with ``random.Random(seed)`` from the Dutch
building blocks in ``demo/*.json`` beside this module (sectors, occupations, regions, employers,
languages, education, CV and vacancy sentences), which ``load_blocks`` reads and checks once, when
the module is imported; generating reads no files. The default seed ``DEMO_SEED`` always yields
the same data set, another seed a different one. There are no names of people anywhere:
candidates are known by an id only and their CVs are written without a name ("Ik heb ... gewerkt
als ...", "Kandidaat heeft ..."). Employer ids are invented slugs, and former employers in CVs are
described generically ("bij een distributiecentrum in de regio"). Postcodes are real PC4 areas
(copied from the GeoNames file in ``shared/data/external/nl-postcodes``, CC BY 4.0, with its
attribution in ``demo/regions.json``) with random letters.

Public API: ``DEMO_SEED``, ``focus_occupations()``, ``demo_candidates()``, ``demo_vacancies()``.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "DEMO_SEED",
    "EMPLOYERS",
    "OCCUPATIONS",
    "REGIONS",
    "SECTORS",
    "demo_candidates",
    "demo_vacancies",
    "focus_occupations",
]

DEMO_SEED: int = 20261124

T = TypeVar("T")
V = TypeVar("V")
R = TypeVar("R", bound="DataclassInstance")

# ------------------------------------------------------------------------------ building blocks


@dataclass(frozen=True)
class Occupation:
    """A focus occupation and the words that CVs and vacancies use around it."""

    slug: str
    name: str
    sector: str
    synonyms: tuple[str, ...]
    roles: tuple[str, ...]  # how a CV names the job: "Ik werkte als {role}"
    desired: tuple[str, ...]  # how a client system records it as a desired occupation
    titles: tuple[str, ...]  # bases of vacancy titles
    title_extras: tuple[str, ...]  # suffixes such as "2-ploegen" or "thuiszorg"
    tasks: tuple[str, ...]  # noun phrases: "verantwoordelijk voor {task}"
    skills: tuple[str, ...]
    certificates: tuple[str, ...]
    education: tuple[str, ...]  # typical education levels
    licence: float  # share of people and jobs in this occupation with a driving licence

    @property
    def label(self) -> str:
        """The clean occupation name used on vacancies ("verzorgende IG", "heftruckchauffeur")."""
        return _lower_first(self.name)


@dataclass(frozen=True)
class Sector:
    key: str
    domain: str  # "de logistiek": "ervaring in {domain}"
    weight: int  # share among the candidates of a municipality
    workplaces: tuple[str, ...]  # generic former employers: "bij een distributiecentrum"
    intros: tuple[str, ...]  # first sentence of a vacancy text, with {place}
    pay: str  # the pay line of a vacancy text


@dataclass(frozen=True)
class Region:
    key: str
    weight: int
    places: tuple[str, ...]
    pc4: tuple[str, ...]  # existing PC4 areas (GeoNames), checked against the file by the tests
    caseworkers: tuple[str, ...]


@dataclass(frozen=True)
class Employer:
    slug: str
    region: str
    sectors: tuple[str, ...]
    sites: tuple[tuple[str, str], ...]  # (postcode, place)
    weight: int  # relative number of vacancies


# ------------------------------------------------------------------------------ loading the blocks

DATA_DIR = Path(__file__).with_name("demo")
_POSTCODE_RE = re.compile(r"[1-9][0-9]{3}[A-Z]{2}")
_PC4_RE = re.compile(r"[1-9][0-9]{3}")


class DemoDataError(ValueError):
    """A building-block file is missing, not JSON, or not of the shape ``load_blocks`` reads.

    The message names the file and the key of the first problem, e.g.
    ``occupations.json: occupations[3].sector: unknown sector 'logistik'``.
    """


@dataclass(frozen=True)
class _At:
    """Where a value sits: a file and the key path inside it, for the error message."""

    file: str
    path: str = ""

    def __truediv__(self, key: str | int) -> _At:
        step = f"[{key}]" if isinstance(key, int) else f".{key}" if self.path else key
        return _At(self.file, self.path + step)

    def fail(self, message: str) -> NoReturn:
        raise DemoDataError(f"{self.file}: {self.path or '(top level)'}: {message}")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _object(value: object, at: _At, keys: Sequence[str]) -> dict[str, Any]:
    """``value`` as an object with exactly ``keys``; keys starting with "_" are comments."""
    if not isinstance(value, dict):
        at.fail(f"expected an object, got {_show(value)}")
    for key in keys:
        if key not in value:
            (at / key).fail("missing")
    for key in value:
        if not key.startswith("_") and key not in keys:
            (at / key).fail(f"unknown key (expected {', '.join(keys)})")
    return value


def _mapping(value: object, at: _At) -> dict[str, Any]:
    """A non-empty object without its comment keys (those starting with "_")."""
    if not isinstance(value, dict) or not [key for key in value if not key.startswith("_")]:
        at.fail(f"expected a non-empty object, got {_show(value)}")
    return {key: item for key, item in value.items() if not key.startswith("_")}


def _list(value: object, at: _At) -> list[Any]:
    if not isinstance(value, list) or not value:
        at.fail(f"expected a non-empty list, got {_show(value)}")
    return value


def _text(value: object, at: _At) -> str:
    if not isinstance(value, str):
        at.fail(f"expected a string, got {_show(value)}")
    return value


def _texts(value: object, at: _At) -> tuple[str, ...]:
    return tuple(_text(item, at / i) for i, item in enumerate(_list(value, at)))


def _weight(value: object, at: _At) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        at.fail(f"expected a whole number of at least 1, got {_show(value)}")
    return value


def _share(value: object, at: _At) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
        at.fail(f"expected a number from 0 to 1, got {_show(value)}")
    return float(value)


def _known(value: object, known: Collection[str], at: _At, what: str) -> str:
    if not isinstance(value, str) or value not in known:
        at.fail(f"unknown {what} {_show(value)}")
    return value


def _sites(value: object, at: _At) -> tuple[tuple[str, str], ...]:
    sites: list[tuple[str, str]] = []
    for i, item in enumerate(_list(value, at)):
        site = _object(item, at / i, ("postcode", "place"))
        postcode = _text(site["postcode"], at / i / "postcode")
        if not _POSTCODE_RE.fullmatch(postcode):
            (at / i / "postcode").fail(f"expected a postcode like 2983LB, got {postcode!r}")
        sites.append((postcode, _text(site["place"], at / i / "place")))
    return tuple(sites)


def _table(
    value: object, at: _At, read: Callable[[object, _At], V], keys: Sequence[str] | None = None
) -> dict[str, V]:
    """An object read value by value; with ``keys``: exactly those keys, in that order."""
    if keys is None:
        keys = list(_mapping(value, at))
    obj = _object(value, at, keys)
    return {key: read(obj[key], at / key) for key in keys}


def _weighted_lists(
    value: object, at: _At, names: tuple[str, str], known: Collection[str], what: str
) -> tuple[tuple[tuple[str, ...], int], ...]:
    """``[{"<items>": [...], "<weight>": n}, ...]`` as ``((items, n), ...)``."""
    items_key, weight_key = names
    out: list[tuple[tuple[str, ...], int]] = []
    for i, item in enumerate(_list(value, at)):
        obj = _object(item, at / i, names)
        items = _texts(obj[items_key], at / i / items_key)
        for j, name in enumerate(items):
            _known(name, known, at / i / items_key / j, what)
        out.append((items, _weight(obj[weight_key], at / i / weight_key)))
    return tuple(out)


# How a record field is read, by its annotation (a string: ``from __future__ import annotations``).
_FIELD_READERS: dict[str, Callable[[object, _At], object]] = {
    "str": _text,
    "int": _weight,
    "float": _share,
    "tuple[str, ...]": _texts,
    "tuple[tuple[str, str], ...]": _sites,
}


def _records(value: object, at: _At, cls: type[R], key: str) -> dict[str, R]:
    """A list of ``cls`` records as a dict by their ``key`` field, which must be unique."""
    out: dict[str, R] = {}
    for i, item in enumerate(_list(value, at)):
        obj = _object(item, at / i, [f.name for f in fields(cls)])
        record = cls(
            **{
                f.name: _FIELD_READERS[str(f.type)](obj[f.name], at / i / f.name)
                for f in fields(cls)
            }
        )
        name = getattr(record, key)
        if name in out:
            (at / i / key).fail(f"duplicate {name!r}")
        out[name] = record
    return out


def _read(directory: Path, name: str, keys: Sequence[str]) -> tuple[dict[str, Any], _At]:
    at = _At(name)
    try:
        data = json.loads((directory / name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        at.fail(f"cannot read {directory / name}: {exc}")
    return _object(data, at, keys), at


def _education(directory: Path) -> dict[str, Any]:
    data, at = _read(directory, "education.json", ("levels", "phrases", "names", "requirements"))
    levels = _texts(data["levels"], at / "levels")
    # Requirements are keyed by level, null for a vacancy that asks for none.
    requirements: dict[str | None, str] = {}
    for i, item in enumerate(_list(data["requirements"], at / "requirements")):
        where = at / "requirements" / i
        obj = _object(item, where, ("level", "text"))
        level = obj["level"]
        if level is not None:
            _known(level, levels, where / "level", "education level")
        if level in requirements:
            (where / "level").fail(f"duplicate {level!r}")
        requirements[level] = _text(obj["text"], where / "text")
    for level in (None, *levels):
        if level not in requirements:
            (at / "requirements").fail(f"no text for level {level!r}")
    return {
        "EDUCATION_LEVELS": levels,
        "EDUCATION_PHRASES": _table(data["phrases"], at / "phrases", _text, levels),
        "EDUCATION_NAMES": _table(data["names"], at / "names", _text, levels),
        "EDUCATION_REQUIREMENTS": requirements,
    }


def _places(directory: Path, levels: Collection[str]) -> dict[str, Any]:
    """Sectors, occupations, regions and employers, with their references checked."""
    data, at = _read(directory, "sectors.json", ("sectors",))
    sectors = _records(data["sectors"], at / "sectors", Sector, "key")
    data, at = _read(directory, "occupations.json", ("occupations",))
    occupations = _records(data["occupations"], at / "occupations", Occupation, "slug")
    for i, occ in enumerate(occupations.values()):
        _known(occ.sector, sectors, at / "occupations" / i / "sector", "sector")
        for j, level in enumerate(occ.education):
            _known(level, levels, at / "occupations" / i / "education" / j, "education level")
    data, at = _read(directory, "regions.json", ("regions",))
    regions = _records(data["regions"], at / "regions", Region, "key")
    for i, region in enumerate(regions.values()):
        for j, pc4 in enumerate(region.pc4):
            if not _PC4_RE.fullmatch(pc4):
                (at / "regions" / i / "pc4" / j).fail(f"expected a PC4 like 2983, got {pc4!r}")
    data, at = _read(directory, "employers.json", ("employers",))
    employers = _records(data["employers"], at / "employers", Employer, "slug")
    for i, employer in enumerate(employers.values()):
        where = at / "employers" / i
        region = regions[_known(employer.region, regions, where / "region", "region")]
        for j, sector in enumerate(employer.sectors):
            _known(sector, sectors, where / "sectors" / j, "sector")
        for j, (postcode, _) in enumerate(employer.sites):
            _known(postcode[:4], region.pc4, where / "sites" / j / "postcode", "PC4 of the region")
    return {
        "SECTORS": sectors,
        "OCCUPATIONS": tuple(occupations.values()),
        "REGIONS": regions,
        "EMPLOYERS": tuple(employers.values()),
    }


def _languages(directory: Path) -> dict[str, Any]:
    data, at = _read(directory, "languages.json", ("names", "profiles", "levels"))
    names = _table(data["names"], at / "names", _text)
    profiles = _weighted_lists(
        data["profiles"], at / "profiles", ("languages", "weight"), names, "language"
    )
    levels = _texts(data["levels"], at / "levels")
    return {"LANGUAGE_NAMES": names, "LANGUAGE_PROFILES": profiles, "LANGUAGE_LEVELS": levels}


_VOICED_LINES = ("opening", "job", "task", "achievement", "leaving", "profile", "volunteer",
                 "switch", "cert", "hours")  # fmt: skip
_VOICED_LINE = ("education", "language", "available")
_WORDS = ("number_words", "months", "soft_skills", "general_courses", "hobbies")


def _candidate_blocks(directory: Path, occupations: Collection[str]) -> dict[str, Any]:
    """CV sentences by voice (``job_lines`` becomes JOB_LINES), word lists and the quotas."""
    keys = [f"{kind}_lines" for kind in (*_VOICED_LINES, *_VOICED_LINE, "licence")]
    data, at = _read(directory, "candidates.json", ("voices", *keys, *_WORDS, "rijnmond_quotas"))
    voices = _texts(data["voices"], at / "voices")
    blocks: dict[str, Any] = {"VOICES": voices}
    for kind in _VOICED_LINES:
        key = f"{kind}_lines"
        blocks[key.upper()] = _table(data[key], at / key, _texts, voices)
    for kind in _VOICED_LINE:
        key = f"{kind}_lines"
        blocks[key.upper()] = _table(data[key], at / key, _text, voices)
    # Licence lines are keyed by (voice, has a licence): a list of objects naming both.
    licence_lines: dict[tuple[str, bool], tuple[str, ...]] = {}
    for i, item in enumerate(_list(data["licence_lines"], at / "licence_lines")):
        where = at / "licence_lines" / i
        obj = _object(item, where, ("voice", "licence", "lines"))
        voice, licence = _known(obj["voice"], voices, where / "voice", "voice"), obj["licence"]
        if not isinstance(licence, bool):
            (where / "licence").fail(f"expected true or false, got {_show(licence)}")
        if (voice, licence) in licence_lines:
            where.fail(f"duplicate voice {voice!r} with licence {licence}")
        licence_lines[voice, licence] = _texts(obj["lines"], where / "lines")
    for voice in voices:
        for licence in (True, False):
            if (voice, licence) not in licence_lines:
                (at / "licence_lines").fail(f"no lines for voice {voice!r} with licence {licence}")
    blocks["LICENCE_LINES"] = licence_lines
    blocks.update({key.upper(): _texts(data[key], at / key) for key in _WORDS})
    if len(blocks["MONTHS"]) != 12:
        (at / "months").fail(f"expected 12 months, got {len(blocks['MONTHS'])}")
    blocks["RIJNMOND_QUOTAS"] = _weighted_lists(
        data["rijnmond_quotas"], at / "rijnmond_quotas", ("occupations", "count"), occupations,
        "occupation",
    )  # fmt: skip
    return blocks


def _vacancy_blocks(directory: Path, first_employer: str) -> dict[str, Any]:
    """Vacancy sentences (``task_lines`` becomes VACANCY_TASK_LINES) and vac-0001."""
    lines = ("task_lines", "cert_lines", "soft_lines", "offers", "closings")
    data, at = _read(directory, "vacancies.json", (*lines, "kind_offers", "vac_0001"))
    blocks: dict[str, Any] = {
        f"VACANCY_{key.upper()}": _texts(data[key], at / key) for key in lines
    }
    blocks["KIND_OFFERS"] = _table(data["kind_offers"], at / "kind_offers", _text)
    vac = _mapping(data["vac_0001"], at / "vac_0001")
    if vac.get("employer_id") != first_employer:
        (at / "vac_0001" / "employer_id").fail(f"must be the first employer, {first_employer!r}")
    # The description is stored as its lines.
    vac["description"] = "\n".join(_texts(vac.get("description"), at / "vac_0001" / "description"))
    blocks["VAC_0001"] = vac
    return blocks


def load_blocks(directory: Path = DATA_DIR) -> dict[str, Any]:
    """The building blocks in ``directory``'s JSON files, keyed by the module constant they become.

    Every value is checked for its type and every reference for its target (an occupation's
    sector and education levels, an employer's region, sectors and sites, a language profile's
    languages, a quota's occupations, the texts per voice and per education level); the first
    problem raises ``DemoDataError`` naming the file and the key.
    """
    blocks = _education(directory)
    blocks.update(_places(directory, blocks["EDUCATION_LEVELS"]))
    blocks.update(_languages(directory))
    blocks.update(_candidate_blocks(directory, [o.slug for o in blocks["OCCUPATIONS"]]))
    blocks.update(_vacancy_blocks(directory, blocks["EMPLOYERS"][0].slug))
    return blocks


_BLOCKS = load_blocks()

SECTORS: dict[str, Sector] = _BLOCKS["SECTORS"]
OCCUPATIONS: tuple[Occupation, ...] = _BLOCKS["OCCUPATIONS"]
_BY_SLUG: dict[str, Occupation] = {o.slug: o for o in OCCUPATIONS}
_BY_SECTOR: dict[str, tuple[Occupation, ...]] = {
    key: tuple(o for o in OCCUPATIONS if o.sector == key) for key in SECTORS
}
# PC4 codes copied from nl_pc4_geonames.csv (GeoNames, CC BY 4.0; the attribution is in
# demo/regions.json); the module must not read that file at run time.
REGIONS: dict[str, Region] = _BLOCKS["REGIONS"]
EMPLOYERS: tuple[Employer, ...] = _BLOCKS["EMPLOYERS"]

LANGUAGE_NAMES: dict[str, str] = _BLOCKS["LANGUAGE_NAMES"]
# The first language of a profile is the one the CV calls the mother tongue.
LANGUAGE_PROFILES: tuple[tuple[tuple[str, ...], int], ...] = _BLOCKS["LANGUAGE_PROFILES"]
LANGUAGE_LEVELS: tuple[str, ...] = _BLOCKS["LANGUAGE_LEVELS"]

EDUCATION_LEVELS: tuple[str, ...] = _BLOCKS["EDUCATION_LEVELS"]
# Completes "Ik heb ..." and "Kandidaat heeft ...".
EDUCATION_PHRASES: dict[str, str] = _BLOCKS["EDUCATION_PHRASES"]
EDUCATION_NAMES: dict[str, str] = _BLOCKS["EDUCATION_NAMES"]
# None: the vacancy asks for no education level.
EDUCATION_REQUIREMENTS: dict[str | None, str] = _BLOCKS["EDUCATION_REQUIREMENTS"]

NUMBER_WORDS: tuple[str, ...] = _BLOCKS["NUMBER_WORDS"]
MONTHS: tuple[str, ...] = _BLOCKS["MONTHS"]
SOFT_SKILLS: tuple[str, ...] = _BLOCKS["SOFT_SKILLS"]
GENERAL_COURSES: tuple[str, ...] = _BLOCKS["GENERAL_COURSES"]
HOBBIES: tuple[str, ...] = _BLOCKS["HOBBIES"]

# CV sentences in two voices: first person and third person ("Kandidaat ..."), by voice.
VOICES: tuple[str, ...] = _BLOCKS["VOICES"]
JOB_LINES: dict[str, tuple[str, ...]] = _BLOCKS["JOB_LINES"]
TASK_LINES: dict[str, tuple[str, ...]] = _BLOCKS["TASK_LINES"]
ACHIEVEMENT_LINES: dict[str, tuple[str, ...]] = _BLOCKS["ACHIEVEMENT_LINES"]
LEAVING_LINES: dict[str, tuple[str, ...]] = _BLOCKS["LEAVING_LINES"]
PROFILE_LINES: dict[str, tuple[str, ...]] = _BLOCKS["PROFILE_LINES"]
VOLUNTEER_LINES: dict[str, tuple[str, ...]] = _BLOCKS["VOLUNTEER_LINES"]
SWITCH_LINES: dict[str, tuple[str, ...]] = _BLOCKS["SWITCH_LINES"]
CERT_LINES: dict[str, tuple[str, ...]] = _BLOCKS["CERT_LINES"]
EDUCATION_LINES: dict[str, str] = _BLOCKS["EDUCATION_LINES"]
LANGUAGE_LINES: dict[str, str] = _BLOCKS["LANGUAGE_LINES"]
# By (voice, has a driving licence).
LICENCE_LINES: dict[tuple[str, bool], tuple[str, ...]] = _BLOCKS["LICENCE_LINES"]
HOURS_LINES: dict[str, tuple[str, ...]] = _BLOCKS["HOURS_LINES"]
AVAILABLE_LINES: dict[str, str] = _BLOCKS["AVAILABLE_LINES"]
OPENING_LINES: dict[str, tuple[str, ...]] = _BLOCKS["OPENING_LINES"]

# Vacancy texts speak to the reader ("je").
VACANCY_TASK_LINES: tuple[str, ...] = _BLOCKS["VACANCY_TASK_LINES"]
VACANCY_CERT_LINES: tuple[str, ...] = _BLOCKS["VACANCY_CERT_LINES"]
VACANCY_SOFT_LINES: tuple[str, ...] = _BLOCKS["VACANCY_SOFT_LINES"]
VACANCY_OFFERS: tuple[str, ...] = _BLOCKS["VACANCY_OFFERS"]
KIND_OFFERS: dict[str, str] = _BLOCKS["KIND_OFFERS"]
VACANCY_CLOSINGS: tuple[str, ...] = _BLOCKS["VACANCY_CLOSINGS"]
VAC_0001: dict[str, Any] = _BLOCKS["VAC_0001"]

# Rijnmond quotas guarantee visible ranking differences in the demo: forklift and warehouse
# profiles next to care and catering profiles near the vac-0001 warehouse in Ridderkerk.
RIJNMOND_QUOTAS: tuple[tuple[tuple[str, ...], int], ...] = _BLOCKS["RIJNMOND_QUOTAS"]

LONG_CV_SHARE = 0.15
SHORT_CV_WORDS = (60, 250)
LONG_CV_WORDS = (350, 700)
CAREER_SWITCH_SHARE = 0.06
_UNISSUED_LETTERS = ("SA", "SD", "SS")
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# ------------------------------------------------------------------------------ small helpers


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _words(text: str) -> int:
    return len(text.split())


def _join(items: Sequence[str]) -> str:
    """Dutch enumeration: "a", "a en b", "a, b en c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " en " + items[-1]


def _weighted(rng: random.Random, options: Sequence[tuple[T, int]]) -> T:
    values = [value for value, _ in options]
    weights = [weight for _, weight in options]
    return rng.choices(values, weights=weights, k=1)[0]


def _unique(items: Sequence[str]) -> list[str]:
    """Drop case-insensitive duplicates, keeping the first spelling and the order."""
    seen: list[str] = []
    out: list[str] = []
    for item in items:
        if item.lower() not in seen:
            seen.append(item.lower())
            out.append(item)
    return out


def _postcode(rng: random.Random, pc4: str) -> str:
    while True:
        letters = rng.choice(_LETTERS) + rng.choice(_LETTERS)
        if letters not in _UNISSUED_LETTERS:
            return pc4 + letters


def _date_2026(rng: random.Random) -> str:
    return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _date_nl(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{int(day)} {MONTHS[int(month) - 1]} {year}"


# ------------------------------------------------------------------------------ focus occupations


def focus_occupations() -> list[dict[str, Any]]:
    """The ~20 focus occupations (focusberoepen) across the ten sectors, with Dutch synonyms."""
    return [{"slug": o.slug, "name": o.name, "synonyms": list(o.synonyms)} for o in OCCUPATIONS]


# ------------------------------------------------------------------------------ candidates


@dataclass(frozen=True)
class _Job:
    occupation: Occupation
    start: int
    end: int


@dataclass(frozen=True)
class _Profile:
    """What a CV is written from: one candidate's facts and the voice of the text."""

    voice: str
    occupation: Occupation
    target: Occupation  # differs from occupation for career switchers
    region: Region
    certificates: tuple[str, ...]
    skills: tuple[str, ...]
    languages: tuple[str, ...]
    education: str | None
    licence: bool
    hours: tuple[int, int]
    available_from: str | None
    desired_first: str


def _candidate_slots(rng: random.Random, n: int) -> list[tuple[Region, Occupation | None]]:
    """(region, forced occupation) per candidate: the Rijnmond quotas first, then random."""
    slots: list[tuple[Region, Occupation | None]] = []
    for slugs, count in RIJNMOND_QUOTAS:
        slots.extend((REGIONS["rijnmond"], _BY_SLUG[rng.choice(slugs)]) for _ in range(count))
    slots = slots[:n]
    regions = [(r, r.weight) for r in REGIONS.values()]
    slots.extend((_weighted(rng, regions), None) for _ in range(n - len(slots)))
    rng.shuffle(slots)
    return slots


def _random_occupation(rng: random.Random) -> Occupation:
    sector = _weighted(rng, [(s.key, s.weight) for s in SECTORS.values()])
    return rng.choice(_BY_SECTOR[sector])


def _job_history(rng: random.Random, occupation: Occupation, count: int) -> list[_Job]:
    """Jobs from the most recent backwards; older jobs may be in other occupations."""
    jobs: list[_Job] = []
    end = rng.choice((2022, 2023, 2024, 2025, 2025, 2026))
    for i in range(count):
        length = rng.randint(1, 9) if count <= 2 else rng.randint(1, 5)
        start = max(1990, end - length)
        if start >= end:
            break
        occ = occupation
        if i > 0:
            pick = rng.random()
            if pick < 0.25:
                occ = rng.choice(_BY_SECTOR[occupation.sector])
            elif pick < 0.4:
                occ = _random_occupation(rng)
        jobs.append(_Job(occ, start, end))
        end = start - rng.choice((0, 0, 0, 1, 2))
    return jobs


def _job_place(rng: random.Random, job: _Job, region: Region) -> str:
    workplace = rng.choice(SECTORS[job.occupation.sector].workplaces)
    where = rng.choice(("in de regio", f"in {rng.choice(region.places)}", "", "in de regio"))
    return f"{workplace} {where}".strip()


def _job_text(rng: random.Random, job: _Job, p: _Profile, n_tasks: int, style: str) -> str:
    role = rng.choice(job.occupation.roles)
    place = _job_place(rng, job, p.region)
    tasks = _join(rng.sample(job.occupation.tasks, k=min(n_tasks, len(job.occupation.tasks))))
    if style == "kopjes":
        head = f"{job.start}-{job.end}: {_upper_first(role)}, {place}."
        return f"{head} Taken: {tasks}."
    years = job.end - job.start
    line = rng.choice(JOB_LINES[p.voice]).format(
        start=job.start,
        end=job.end,
        years=NUMBER_WORDS[years] if years < len(NUMBER_WORDS) else str(years),
        role=role,
        place=place,
    )
    return f"{line} {rng.choice(TASK_LINES[p.voice]).format(tasks=tasks)}"


def _language_text(p: _Profile, rng: random.Random) -> str:
    parts = [f"{LANGUAGE_NAMES[p.languages[0]]} (moedertaal)"]
    parts += [f"{LANGUAGE_NAMES[c]} ({rng.choice(LANGUAGE_LEVELS)})" for c in p.languages[1:]]
    return _join(parts)


def _hours_text(p: _Profile) -> str:
    lo, hi = p.hours
    return str(hi) if lo == hi else f"{lo} tot {hi}"


def _closing_lines(rng: random.Random, p: _Profile) -> list[str]:
    """Certificates, education, languages, licence, hours and availability, in the voice."""
    v = p.voice
    lines: list[str] = []
    if p.certificates:
        lines.append(rng.choice(CERT_LINES[v]).format(certs=_join(p.certificates)))
    if p.education is not None and rng.random() < 0.7:
        lines.append(EDUCATION_LINES[v].format(edu=EDUCATION_PHRASES[p.education]))
    lines.append(LANGUAGE_LINES[v].format(langs=_language_text(p, rng)))
    lines.append(rng.choice(LICENCE_LINES[v, p.licence]))
    lines.append(rng.choice(HOURS_LINES[v]).format(hours=_hours_text(p)))
    if p.available_from is not None:
        lines.append(AVAILABLE_LINES[v].format(date=_date_nl(p.available_from)))
    return lines


def _switch_line(rng: random.Random, p: _Profile) -> list[str]:
    if p.target is p.occupation:
        return []
    domain = SECTORS[p.target.sector].domain
    return [rng.choice(SWITCH_LINES[p.voice]).format(domain=domain)]


def _short_cv(rng: random.Random, p: _Profile) -> str:
    """A prose or headed CV of 60-250 words with one or two jobs."""
    style = rng.choice(("proza", "proza", "kopjes"))
    jobs = _job_history(rng, p.occupation, rng.choice((1, 1, 2)))
    opening = rng.choice(OPENING_LINES[p.voice]).format(occupation=_lower_first(p.desired_first))
    body = [_job_text(rng, job, p, rng.randint(2, 3), style) for job in jobs]
    extra = _switch_line(rng, p) + _closing_lines(rng, p)
    domain = SECTORS[p.occupation.sector].domain
    fillers = [line.format(domain=domain) for line in rng.sample(PROFILE_LINES[p.voice], k=4)]

    def compose(used: int) -> str:
        if style == "kopjes":
            return "\n".join(["Werkervaring", *body, "", "Overig", *extra, *fillers[:used]])
        return " ".join([opening, *body, *extra, *fillers[:used]])

    used = 0
    text = compose(used)
    while _words(text) < SHORT_CV_WORDS[0] and used < len(fillers):
        used += 1
        text = compose(used)
    while _words(text) > SHORT_CV_WORDS[1] and len(body) > 1:
        body.pop()
        text = compose(used)
    return text


def _long_cv(rng: random.Random, p: _Profile) -> str:
    """A headed CV of 350-700 words: profile, several jobs, courses, skills, hobbies."""
    v = p.voice
    domain = SECTORS[p.occupation.sector].domain
    profile = [line.format(domain=domain) for line in rng.sample(PROFILE_LINES[v], k=4)]
    profile += _switch_line(rng, p)
    jobs = _job_history(rng, p.occupation, 8)
    blocks: list[str] = []
    for job in jobs:
        block = [_job_text(rng, job, p, rng.randint(3, 4), "proza")]
        block += rng.sample(ACHIEVEMENT_LINES[v], k=rng.randint(1, 2))
        if rng.random() < 0.5:
            block.append(rng.choice(LEAVING_LINES[v]))
        blocks.append(" ".join(block))
    first_year = jobs[-1].start if jobs else 2010
    courses = [f"- {rng.randint(first_year, 2025)}: {c}" for c in p.certificates]
    courses += [f"- {rng.randint(2015, 2025)}: {c}" for c in rng.sample(GENERAL_COURSES, k=2)]
    if p.education is not None:
        courses.insert(0, f"- {max(1990, first_year - 1)}: {EDUCATION_NAMES[p.education]}")
    volunteering = [line.format(year=rng.randint(2018, 2025)) for line in VOLUNTEER_LINES[v]]
    rng.shuffle(volunteering)
    other = [
        rng.choice(LICENCE_LINES[v, p.licence]),
        rng.choice(HOURS_LINES[v]).format(hours=_hours_text(p)),
    ]
    if p.available_from is not None:
        other.append(AVAILABLE_LINES[v].format(date=_date_nl(p.available_from)))
    head = ["Profiel\n" + " ".join(profile)]
    tail = [
        "Opleidingen en cursussen\n" + "\n".join(courses),
        "Vaardigheden\n" + _upper_first(", ".join(p.skills)) + ".",
        "Talen\n" + _upper_first(_language_text(p, rng)) + ".",
        "Hobby's\n" + _upper_first(_join(rng.sample(HOBBIES, k=rng.randint(2, 3)))) + ".",
        "Overig\n" + " ".join(other),
    ]

    def compose(n_jobs: int, n_volunteer: int) -> str:
        sections = [*head, "Werkervaring\n" + "\n\n".join(blocks[:n_jobs])]
        if n_volunteer:
            sections.append("Vrijwilligerswerk\n" + " ".join(volunteering[:n_volunteer]))
        return "\n\n".join([*sections, *tail])

    # A random target spreads the long CVs over the whole 350-700 word range.
    target = rng.randint(LONG_CV_WORDS[0], LONG_CV_WORDS[1] - 100)
    n_jobs, n_volunteer = min(2, len(blocks)), int(rng.random() < 0.4)
    while _words(compose(n_jobs, n_volunteer)) < target and n_jobs < len(blocks):
        n_jobs += 1
    while _words(compose(n_jobs, n_volunteer)) < LONG_CV_WORDS[0]:
        if n_volunteer == len(volunteering):
            break
        n_volunteer += 1
    while _words(compose(n_jobs, n_volunteer)) > LONG_CV_WORDS[1] and n_jobs > 1:
        n_jobs -= 1
    return compose(n_jobs, n_volunteer)


def _client_group(rng: random.Random, step: int) -> str:
    if step >= 5:
        return _weighted(rng, [("matchen", 70), ("groeien", 30)])
    if step == 4:
        return _weighted(rng, [("matchen", 25), ("groeien", 60), ("faciliteren", 15)])
    if step == 3:
        return _weighted(rng, [("groeien", 45), ("faciliteren", 45), ("zorgen", 10)])
    return _weighted(rng, [("faciliteren", 40), ("zorgen", 60)])


def _benefit_type(rng: random.Random, group: str) -> str:
    if group in ("faciliteren", "zorgen"):
        return _weighted(rng, [("participatiewet", 75), ("wajong", 15), ("wia", 5), ("none", 5)])
    return _weighted(
        rng, [("ww", 35), ("participatiewet", 40), ("wajong", 8), ("wia", 7), ("none", 10)]
    )


def _hours_range(rng: random.Random, group: str) -> tuple[int, int]:
    maxima = (16, 20, 24, 28, 32, 36, 38, 40)
    if group in ("matchen", "groeien"):
        weights = (3, 6, 8, 6, 12, 10, 5, 12)
    else:  # clients without a work obligation look for few hours
        weights = (8, 8, 5, 2, 1, 1, 0, 0)
    hi = rng.choices(maxima, weights=weights, k=1)[0]
    lo = rng.choice([h for h in range(8, hi + 1, 4)] + [hi])
    return lo, hi


def _desired(rng: random.Random, target: Occupation) -> list[str]:
    """1-3 desired occupations in real-world spellings, around the target occupation."""
    chosen = [rng.choice(target.desired)]
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        if rng.random() < 0.5:
            chosen.append(rng.choice(target.desired))
        else:
            chosen.append(rng.choice(rng.choice(_BY_SECTOR[target.sector]).desired))
    return _unique(chosen)[:3]


def _candidate_skills(rng: random.Random, occ: Occupation, certs: Sequence[str]) -> list[str]:
    skills = rng.sample(occ.skills, k=rng.randint(2, min(5, len(occ.skills))))
    skills += rng.sample(SOFT_SKILLS, k=rng.randint(0, 2))
    skills += [c for c in certs if c in ("HACCP", "VCA basis", "BHV") and rng.random() < 0.5]
    return _unique(skills)[:8]


def _candidate(
    rng: random.Random, index: int, region: Region, forced: Occupation | None, long_cv: bool
) -> dict[str, Any]:
    occupation = forced or _random_occupation(rng)
    target = occupation
    if forced is None and rng.random() < CAREER_SWITCH_SHARE:
        others = [o for o in OCCUPATIONS if o.sector != occupation.sector]
        target = rng.choice(others)
    step = _weighted(rng, [(1, 2), (2, 4), (3, 8), (4, 18), (5, 30), (6, 38)])
    group = _client_group(rng, step)
    certs = tuple(c for c in occupation.certificates if rng.random() < 0.55)
    licence = occupation.licence >= 1.0 or rng.random() < occupation.licence
    education = None if rng.random() < 0.15 else rng.choice(occupation.education)
    languages = _weighted(rng, LANGUAGE_PROFILES)
    hours = _hours_range(rng, group)
    available = None if rng.random() < 0.2 else _date_2026(rng)
    desired = _desired(rng, target)
    skills = _candidate_skills(rng, occupation, certs)
    profile = _Profile(
        voice=rng.choice(VOICES),
        occupation=occupation,
        target=target,
        region=region,
        certificates=certs,
        skills=tuple(skills),
        languages=languages,
        education=education,
        licence=licence,
        hours=hours,
        available_from=available,
        desired_first=desired[0],
    )
    cv_text = _long_cv(rng, profile) if long_cv else _short_cv(rng, profile)
    base_chance = {1: 0.1, 2: 0.2, 3: 0.33, 4: 0.48, 5: 0.6, 6: 0.72}[step]
    chance = min(0.99, max(0.01, rng.gauss(base_chance, 0.12)))
    return {
        "external_id": f"kand-{index:04d}",
        "cv_text": cv_text,
        "desired_occupations": desired,
        "skills": skills,
        "languages": list(languages),
        "participation_ladder_step": step,
        "client_group": group,
        "benefit_type": _benefit_type(rng, group),
        "work_chance_score": round(chance, 2),
        "hours_per_week_min": hours[0],
        "hours_per_week_max": hours[1],
        "postcode": _postcode(rng, rng.choice(region.pc4)),
        "max_travel_km": rng.choice((5, 10, 10, 15, 15, 20, 20, 25, 30, 30, 40, 50, 60)),
        "driving_licence": licence,
        "education_level": education,
        "available_from": available,
        "caseworker_id": rng.choice(region.caseworkers),
        "active": rng.random() < 0.95,
    }


def demo_candidates(seed: int = DEMO_SEED, n: int = 300) -> list[dict[str, Any]]:
    """``n`` made-up candidates ("kand-0001" ...) with Dutch CVs; the same seed, the same list.

    About 15 % have long CVs (350-700 words), the rest 60-250 words. At least 28 (if n allows) are
    Rijnmond forklift/warehouse and care/catering profiles (see RIJNMOND_QUOTAS), shuffled
    among the others.
    """
    rng = random.Random(seed)
    slots = _candidate_slots(rng, n)
    long_ids = set(rng.sample(range(n), k=round(n * LONG_CV_SHARE)))
    return [
        _candidate(rng, i + 1, region, forced, long_cv=i in long_ids)
        for i, (region, forced) in enumerate(slots)
    ]


# ------------------------------------------------------------------------------ vacancies


def _vacancy_counts(rng: random.Random, n: int) -> list[int]:
    """Vacancies per employer: at least 2 and at most 10 each while n allows it."""
    counts = [min(2, n // len(EMPLOYERS))] * len(EMPLOYERS)
    counts[0] = max(counts[0], 1)  # vac-0001's employer always posts
    while sum(counts) < n:
        open_ = [i for i, c in enumerate(counts) if c < 10] or list(range(len(counts)))
        i = rng.choices(open_, weights=[EMPLOYERS[j].weight for j in open_], k=1)[0]
        counts[i] += 1
    return counts


def _title(rng: random.Random, occ: Occupation, kind: str, hours: int) -> str:
    base = rng.choice(occ.titles)
    low = _lower_first(base)
    if kind == "work_experience":
        return rng.choice((f"Werkervaringsplaats {low}", f"Werkervaringsplek {low} ({hours} uur)"))
    if kind == "volunteer":
        return rng.choice((f"Vrijwilliger {low}", f"Vrijwilliger {low} ({hours} uur)"))
    if kind == "learn_work":
        if base.startswith("Leerling"):
            return f"{base} (BBL)"
        return rng.choice((f"Leerwerkplek {low} (BBL)", f"BBL {low} niveau 2", f"Leerling {low}"))
    extra = rng.choice(occ.title_extras)
    lo = max(8, hours - rng.choice((4, 8)))
    senior = rng.choice(("Ervaren", "Junior", "Allround"))
    patterns = [
        f"{base} (m/v) {hours} uur",
        f"{base} (m/v/x)",
        f"{base} {lo}-{hours} uur",
        f"{base} {extra}",
        f"{base} ({extra})",
        f"{base} | {extra} | {hours} uur",
        f"Wij zoeken: {low} (m/v)",
        base,
    ]
    if hours >= 36:
        patterns += [f"{base} - fulltime", f"{base} fulltime (m/v/x)"]
    elif hours <= 28:
        patterns.append(f"{base} parttime {hours} uur")
    if base.split()[0] not in ("Ervaren", "Junior", "Allround", "Eerste", "Leerling"):
        patterns.append(f"{senior} {low} {hours} uur")
    return rng.choice(patterns)


def _vacancy_description(
    rng: random.Random,
    occ: Occupation,
    place: str,
    kind: str,
    hours: int,
    licence: bool,
    languages: Sequence[str],
    education: str | None,
) -> str:
    sector = SECTORS[occ.sector]
    tasks = rng.sample(occ.tasks, k=min(3, len(occ.tasks)))
    lines = rng.sample(VACANCY_TASK_LINES, k=len(tasks))
    doing = " ".join(line.format(task=task) for line, task in zip(lines, tasks, strict=True))
    ask: list[str] = []
    certs = rng.sample(occ.certificates, k=rng.randint(0, min(2, len(occ.certificates))))
    if certs:
        ask.append(rng.choice(VACANCY_CERT_LINES).format(certs=_join(certs)))
    if licence:
        ask.append("Je hebt rijbewijs C." if occ.licence >= 1.0 else "Je hebt rijbewijs B.")
    if "nl" in languages:
        ask.append(
            rng.choice(
                (
                    "Je spreekt en begrijpt Nederlands op minimaal A2-niveau.",
                    "Je spreekt genoeg Nederlands om veiligheidsinstructies te begrijpen.",
                )
            )
        )
    others = [LANGUAGE_NAMES[code] for code in languages if code != "nl"]
    if others and "nl" in languages:
        ask.append(f"Je spreekt ook {_join(others)}.")
    elif others:
        ask.append(f"Je spreekt {_join(others)}; Nederlands is niet nodig.")
    ask.append(EDUCATION_REQUIREMENTS[education])
    ask += rng.sample(VACANCY_SOFT_LINES, k=2)
    offers = [f"Een baan van {hours} uur per week.", sector.pay]
    offers += rng.sample(VACANCY_OFFERS, k=2)
    if KIND_OFFERS[kind]:
        offers.insert(0, KIND_OFFERS[kind])
    intro = rng.choice(sector.intros).format(place=place)
    return "\n\n".join(
        [
            intro,
            "Wat ga je doen?\n" + doing,
            "Wat vragen wij?\n" + " ".join(ask),
            "Wat bieden wij?\n" + " ".join(offers) + " " + rng.choice(VACANCY_CLOSINGS),
        ]
    )


def _vacancy(rng: random.Random, employer: Employer) -> dict[str, Any]:
    sector = rng.choice(employer.sectors)
    occ = rng.choice(_BY_SECTOR[sector])
    postcode, place = rng.choice(employer.sites)
    kind = _weighted(
        rng, [("regular", 75), ("work_experience", 11), ("learn_work", 7), ("volunteer", 7)]
    )
    if kind == "volunteer" and sector not in ("zorg", "horeca", "groen", "retail"):
        kind = "work_experience"  # nobody volunteers as a forklift driver
    if kind == "volunteer":
        hours = rng.choice((8, 12, 16))
    elif kind == "learn_work":
        hours = rng.choice((32, 36, 38))
    else:
        hours = _weighted(
            rng, [(16, 2), (20, 4), (24, 6), (28, 4), (32, 10), (36, 6), (38, 4), (40, 8)]
        )
    licence = occ.licence >= 1.0 or rng.random() < occ.licence * 0.5
    languages = _weighted(rng, [(("nl",), 85), (("nl", "en"), 10), (("nl", "de"), 2)])
    if sector in ("logistiek", "productie") and rng.random() < 0.05:
        languages = ("en",)  # international teams in warehouses and factories
    education = None if rng.random() < 0.25 else rng.choice(occ.education)
    closes_on = None
    if rng.random() < 0.8:
        month = rng.choice((12, 1, 2, 3, 4, 5, 6, 7, 8, 9))
        year = 2026 if month == 12 else 2027
        closes_on = f"{year}-{month:02d}-{rng.randint(1, 28):02d}"
    return {
        "external_id": "",
        "employer_id": employer.slug,
        "title": _title(rng, occ, kind, hours),
        "description": _vacancy_description(
            rng, occ, place, kind, hours, licence, languages, education
        ),
        "occupation": None if rng.random() < 0.1 else occ.label,
        "skills": rng.sample(occ.skills, k=rng.randint(2, min(6, len(occ.skills)))),
        "hours_per_week": hours,
        "postcode": postcode,
        "requires_driving_licence": licence,
        "languages": list(languages),
        "education_level": education,
        "kind": kind,
        "status": _weighted(rng, [("open", 85), ("closed", 8), ("filled", 7)]),
        "closes_on": closes_on,
    }


def demo_vacancies(seed: int = DEMO_SEED, n: int = 150) -> list[dict[str, Any]]:
    """``n`` made-up vacancies ("vac-0001" ...) of ~25 employers; the same seed, the same list.

    "vac-0001" is always the fixed forklift vacancy of "transport-rijnmond-bv" in Ridderkerk.
    """
    if n <= 0:
        return []
    rng = random.Random(seed)
    counts = _vacancy_counts(rng, n)
    rest: list[dict[str, Any]] = []
    for employer, count in zip(EMPLOYERS, counts, strict=True):
        own = count - 1 if employer is EMPLOYERS[0] else count
        rest.extend(_vacancy(rng, employer) for _ in range(own))
    rng.shuffle(rest)
    vacancies = [dict(VAC_0001, skills=list(VAC_0001["skills"]), languages=["nl"]), *rest]
    for i, vacancy in enumerate(vacancies, start=1):
        vacancy["external_id"] = f"vac-{i:04d}"
    return vacancies


def demo_texts() -> list[str]:
    """The texts ``werkmatch demo`` embeds, in load order: each demo candidate's and vacancy's
    embedding text as the import computes it (validated like an imported line)."""
    from service.batch.importer import parse_line
    from service.store import crud

    texts = []
    for kind, rows in ((crud.CANDIDATES, demo_candidates()), (crud.VACANCIES, demo_vacancies())):
        for row in rows:
            _, item = parse_line(kind, json.dumps(row))
            texts.append(kind.embed_text(item))
    return texts
