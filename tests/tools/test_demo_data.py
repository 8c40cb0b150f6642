"""Unit tests for service.tools.demo_data: determinism, value ranges, and the demo's must-haves."""

from __future__ import annotations

import builtins
import dataclasses
import json
import os
import re
import shutil
import string
import subprocess
import sys
import tomllib
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest

from matching.geo import PostcodeLocator
from service.store.models import CandidateIn, VacancyIn
from service.tools import demo_data
from service.tools.demo_data import (
    DATA_DIR,
    DEMO_SEED,
    EMPLOYERS,
    OCCUPATIONS,
    REGIONS,
    SECTORS,
    DemoDataError,
    Employer,
    Occupation,
    Region,
    Sector,
    demo_candidates,
    demo_vacancies,
    focus_occupations,
    load_blocks,
)

ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SLUG_RE = re.compile(r"^[a-z0-9-]{1,64}$")
POSTCODE_RE = re.compile(r"^[1-9][0-9]{3}[A-Z]{2}$")
ISO_RE = re.compile(r"^[a-z]{2}$")
EDUCATION = {"basisonderwijs", "vmbo", "mbo1", "mbo2", "mbo3", "mbo4", "havo", "vwo", "hbo", "wo"}
CANDIDATE_KEYS = {
    "external_id", "cv_text", "desired_occupations", "skills", "languages",
    "participation_ladder_step", "client_group", "benefit_type", "work_chance_score",
    "hours_per_week_min", "hours_per_week_max", "postcode", "max_travel_km", "driving_licence",
    "education_level", "available_from", "caseworker_id", "active",
}  # fmt: skip
VACANCY_KEYS = {
    "external_id", "employer_id", "title", "description", "occupation", "skills",
    "hours_per_week", "postcode", "requires_driving_licence", "languages", "education_level",
    "kind", "status", "closes_on",
}  # fmt: skip
PC4_CSV = Path(__file__).resolve().parents[2] / "matching" / "data" / "nl_pc4_geonames.csv"
RIJNMOND = set(REGIONS["rijnmond"].pc4)
FORKLIFT_RE = re.compile(r"heftruck|reachtruck|magazijn|orderpick|laden en lossen", re.I)
CARE_CATERING_RE = re.compile(r"zorg|verzorgende|horeca|keuken|bediening|\bkok\b", re.I)


def _words(text: str) -> int:
    return len(text.split())


@pytest.fixture
def candidates() -> list[dict[str, Any]]:
    return demo_candidates()


@pytest.fixture
def vacancies() -> list[dict[str, Any]]:
    return demo_vacancies()


# --- determinism ------------------------------------------------------------------------------


def test_same_seed_gives_identical_data() -> None:
    assert demo_candidates() == demo_candidates(seed=DEMO_SEED)
    assert demo_vacancies() == demo_vacancies(seed=DEMO_SEED)
    assert focus_occupations() == focus_occupations()


def test_different_seed_gives_different_data() -> None:
    assert demo_candidates(seed=1) != demo_candidates(seed=2)
    assert demo_vacancies(seed=1) != demo_vacancies(seed=2)
    assert [c["cv_text"] for c in demo_candidates(seed=1)] != [
        c["cv_text"] for c in demo_candidates()
    ]


def test_output_does_not_depend_on_string_hashing() -> None:
    """Iteration over sets would make the data differ between processes; it must not."""
    code = (
        "import json; from service.tools.demo_data import demo_candidates, demo_vacancies;"
        "print(json.dumps([demo_candidates(n=40), demo_vacancies(n=30)]))"
    )
    root = Path(__file__).resolve().parents[2]
    outputs = [
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in ("1", "2")
    ]
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])[0][0]["external_id"] == "kand-0001"


def test_generation_reads_no_files(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_open(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"demo data must not read files: {args!r}")

    monkeypatch.setattr(builtins, "open", no_open)
    monkeypatch.setattr(Path, "open", no_open)
    assert len(demo_candidates(n=20)) == 20
    assert len(demo_vacancies(n=20)) == 20


# --- counts and ids ---------------------------------------------------------------------------


def test_default_sizes(candidates: list[dict[str, Any]], vacancies: list[dict[str, Any]]) -> None:
    assert len(candidates) == 300
    assert len(vacancies) == 150
    assert 18 <= len(focus_occupations()) <= 25


@pytest.mark.parametrize("n", [1, 7, 30, 301])
def test_n_is_respected(n: int) -> None:
    assert len(demo_candidates(n=n)) == n
    vacancies = demo_vacancies(n=n)
    assert len(vacancies) == n
    assert vacancies[0]["external_id"] == "vac-0001"


def test_ids_are_sequential_unique_and_valid(
    candidates: list[dict[str, Any]], vacancies: list[dict[str, Any]]
) -> None:
    assert [c["external_id"] for c in candidates] == [f"kand-{i:04d}" for i in range(1, 301)]
    assert [v["external_id"] for v in vacancies] == [f"vac-{i:04d}" for i in range(1, 151)]
    ids = [c["caseworker_id"] for c in candidates] + [v["employer_id"] for v in vacancies]
    ids += [c["external_id"] for c in candidates] + [v["external_id"] for v in vacancies]
    assert all(ID_RE.fullmatch(i) for i in ids)


# --- candidates: keys and ranges, exhaustively ------------------------------------------------


def test_every_candidate_is_in_range(candidates: list[dict[str, Any]]) -> None:
    for c in candidates:
        where = c["external_id"]
        assert set(c) == CANDIDATE_KEYS, where
        assert isinstance(c["cv_text"], str) and c["cv_text"].strip(), where
        assert 1 <= len(c["desired_occupations"]) <= 3, where
        assert all(isinstance(o, str) and o.strip() for o in c["desired_occupations"]), where
        assert 2 <= len(c["skills"]) <= 8, where
        assert all(isinstance(s, str) and s.strip() for s in c["skills"]), where
        assert c["languages"] and all(ISO_RE.fullmatch(code) for code in c["languages"]), where
        assert len(set(c["languages"])) == len(c["languages"]), where
        assert type(c["participation_ladder_step"]) is int, where
        assert 1 <= c["participation_ladder_step"] <= 6, where
        assert c["client_group"] in {"matchen", "groeien", "faciliteren", "zorgen"}, where
        assert c["benefit_type"] in {"ww", "participatiewet", "wajong", "wia", "none"}, where
        score = c["work_chance_score"]
        assert isinstance(score, float) and 0.0 <= score <= 1.0, where
        assert round(score, 2) == score, where
        lo, hi = c["hours_per_week_min"], c["hours_per_week_max"]
        assert type(lo) is int and type(hi) is int and 8 <= lo <= hi <= 40, where
        assert POSTCODE_RE.fullmatch(c["postcode"]), where
        assert c["postcode"][4:] not in {"SA", "SD", "SS"}, where
        assert type(c["max_travel_km"]) is int and 5 <= c["max_travel_km"] <= 60, where
        assert type(c["driving_licence"]) is bool, where
        assert c["education_level"] is None or c["education_level"] in EDUCATION, where
        if c["available_from"] is not None:
            assert re.fullmatch(r"2026-\d{2}-\d{2}", c["available_from"]), where
            date.fromisoformat(c["available_from"])
        assert type(c["active"]) is bool, where


def test_caseworkers_are_few_and_regional(candidates: list[dict[str, Any]]) -> None:
    caseworkers = {c["caseworker_id"] for c in candidates}
    assert 6 <= len(caseworkers) <= 10
    assert all(re.fullmatch(r"cw-[a-z]+-\d{2}", cw) for cw in caseworkers)


def test_candidate_distributions(candidates: list[dict[str, Any]]) -> None:
    n = len(candidates)
    steps = Counter(c["participation_ladder_step"] for c in candidates)
    groups = Counter(c["client_group"] for c in candidates)
    assert sum(steps[s] for s in (4, 5, 6)) / n >= 0.7
    assert set(steps) == {1, 2, 3, 4, 5, 6}
    assert (groups["matchen"] + groups["groeien"]) / n >= 0.7
    assert set(groups) == {"matchen", "groeien", "faciliteren", "zorgen"}
    # "zorgen" (no work potential now) belongs to the lower ladder steps.
    assert all(
        c["participation_ladder_step"] <= 3 for c in candidates if c["client_group"] == "zorgen"
    )
    assert set(Counter(c["benefit_type"] for c in candidates)) == {
        "ww", "participatiewet", "wajong", "wia", "none"
    }  # fmt: skip
    assert 0.08 <= sum(c["education_level"] is None for c in candidates) / n <= 0.22
    assert 0.9 <= sum(c["active"] for c in candidates) / n <= 0.99
    assert sum("nl" in c["languages"] for c in candidates) / n >= 0.85
    assert any("nl" not in c["languages"] for c in candidates)
    assert any(c["available_from"] is None for c in candidates)


def test_cv_lengths_short_and_long(candidates: list[dict[str, Any]]) -> None:
    words = [_words(c["cv_text"]) for c in candidates]
    assert all(60 <= w <= 250 or 350 <= w <= 700 for w in words), sorted(words)
    long_share = sum(w >= 350 for w in words) / len(words)
    assert 0.12 <= long_share <= 0.18
    assert max(words) >= 500  # long CVs spread over the range, beyond one 256-token chunk


def test_cvs_are_varied_and_written_in_both_voices(candidates: list[dict[str, Any]]) -> None:
    texts = [c["cv_text"] for c in candidates]
    assert len(set(texts)) == len(texts)
    assert len({t.split(".")[0] for t in texts}) >= 150
    assert sum(" ik " in f" {t.lower()} " for t in texts) >= 60
    assert sum("kandidaat" in t.lower() for t in texts) >= 60
    for certificate in ("heftruckcertificaat", "VCA", "HACCP", "BHV", "SVH Sociale Hygiëne"):
        assert any(certificate in t for t in texts), certificate


def test_cvs_hold_no_names(candidates: list[dict[str, Any]]) -> None:
    names = ("Mohammed", "Fatima", "Jan", "Piet", "Kees", "Anna", "Sanne", "Ahmed", "Jansen",
             "de Vries", "Bakker", "Yilmaz", "Meneer", "Mevrouw", "Dhr.", "Mw.")  # fmt: skip
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b")
    for c in candidates:
        assert not pattern.search(c["cv_text"]), c["external_id"]


def test_some_candidates_switch_careers(candidates: list[dict[str, Any]]) -> None:
    switchers = [c for c in candidates if "overstap" in c["cv_text"]]
    assert 3 <= len(switchers) <= 40


# --- vacancies: keys and ranges, exhaustively -------------------------------------------------


def test_every_vacancy_is_in_range(vacancies: list[dict[str, Any]]) -> None:
    for v in vacancies:
        where = v["external_id"]
        assert set(v) == VACANCY_KEYS, where
        assert isinstance(v["title"], str) and v["title"].strip(), where
        assert len(v["title"]) <= 200, where
        assert 60 <= _words(v["description"]) <= 250, where
        assert v["occupation"] is None or (v["occupation"].strip() == v["occupation"] != ""), where
        assert 2 <= len(v["skills"]) <= 6, where
        assert type(v["hours_per_week"]) is int and 8 <= v["hours_per_week"] <= 40, where
        assert POSTCODE_RE.fullmatch(v["postcode"]), where
        assert v["postcode"][4:] not in {"SA", "SD", "SS"}, where
        assert type(v["requires_driving_licence"]) is bool, where
        assert v["languages"] and all(ISO_RE.fullmatch(code) for code in v["languages"]), where
        assert v["education_level"] is None or v["education_level"] in EDUCATION, where
        assert v["kind"] in {"regular", "work_experience", "volunteer", "learn_work"}, where
        assert v["status"] in {"open", "closed", "filled"}, where
        if v["closes_on"] is not None:
            assert re.fullmatch(r"2026-12-\d{2}|2027-0[1-9]-\d{2}", v["closes_on"]), where
            date.fromisoformat(v["closes_on"])


def test_vacancy_distributions(vacancies: list[dict[str, Any]]) -> None:
    n = len(vacancies)
    kinds = Counter(v["kind"] for v in vacancies)
    statuses = Counter(v["status"] for v in vacancies)
    assert 0.65 <= kinds["regular"] / n <= 0.85
    assert set(kinds) == {"regular", "work_experience", "volunteer", "learn_work"}
    assert 0.75 <= statuses["open"] / n <= 0.92
    assert set(statuses) == {"open", "closed", "filled"}
    assert 0.04 <= sum(v["occupation"] is None for v in vacancies) / n <= 0.16
    assert sum(v["languages"] == ["nl"] for v in vacancies) / n >= 0.7
    assert any(v["closes_on"] is None for v in vacancies)


def test_titles_come_in_messy_real_world_forms(vacancies: list[dict[str, Any]]) -> None:
    titles = [v["title"] for v in vacancies]
    assert len(set(titles)) >= 100
    for marker in (r"\(m/v\)", r"\(m/v/x\)", r"\b\d{2} uur\b", r"\d+-\d+ uur", "fulltime"):
        assert any(re.search(marker, t) for t in titles), marker


def test_employers_post_2_to_10_vacancies_in_one_region(vacancies: list[dict[str, Any]]) -> None:
    per_employer = Counter(v["employer_id"] for v in vacancies)
    assert 20 <= len(per_employer) <= 30
    assert all(2 <= count <= 10 for count in per_employer.values()), per_employer
    pc4_to_region = {code: r.key for r in REGIONS.values() for code in r.pc4}
    regions: dict[str, set[str]] = defaultdict(set)
    for v in vacancies:
        regions[v["employer_id"]].add(pc4_to_region[v["postcode"][:4]])
    assert all(len(r) == 1 for r in regions.values()), regions
    assert all(1 <= len(e.sectors) <= 2 for e in EMPLOYERS)


# --- the rows the API accepts -----------------------------------------------------------------


def test_rows_pass_the_api_validation(
    candidates: list[dict[str, Any]], vacancies: list[dict[str, Any]]
) -> None:
    for c in candidates:
        CandidateIn.model_validate({k: v for k, v in c.items() if k != "external_id"})
    for v in vacancies:
        body = {k: x for k, x in v.items() if k not in ("external_id", "employer_id")}
        VacancyIn.model_validate(body)


def test_postcodes_are_existing_pc4_areas_of_the_six_regions(
    candidates: list[dict[str, Any]], vacancies: list[dict[str, Any]]
) -> None:
    locator = PostcodeLocator(PC4_CSV)
    region_pc4 = {code for r in REGIONS.values() for code in r.pc4}
    assert len(REGIONS) == 6
    assert all(code in locator for code in region_pc4)
    assert {f"29{i}" for i in range(81, 90)} <= RIJNMOND  # Ridderkerk
    for row in [*candidates, *vacancies]:
        assert row["postcode"][:4] in region_pc4, row["external_id"]
    municipalities = {locator.locate(code).municipality for code in region_pc4}  # type: ignore[union-attr]
    assert {"Rotterdam", "Ridderkerk", "Deventer", "Utrecht", "Groningen", "Eindhoven",
            "Amsterdam"} <= municipalities  # fmt: skip


# --- the demo's must-haves --------------------------------------------------------------------


def test_vac_0001_is_the_ridderkerk_forklift_vacancy(vacancies: list[dict[str, Any]]) -> None:
    v = vacancies[0]
    assert v["external_id"] == "vac-0001"
    assert v["employer_id"] == "transport-rijnmond-bv"
    assert v["title"] == "Heftruckchauffeur (m/v) 32 uur"
    assert v["occupation"] == "heftruckchauffeur"
    assert v["postcode"][:4] == "2983"
    assert (v["status"], v["kind"], v["hours_per_week"]) == ("open", "regular", 32)
    text = v["description"].lower()
    for word in ("heftruck", "reachtruck", "distributiecentrum", "magazijn", "laden en lossen",
                 "vrachtwagens", "scanner", "heftruckcertificaat"):  # fmt: skip
        assert word in text, word


def test_vac_0001_does_not_depend_on_the_seed() -> None:
    assert demo_vacancies(seed=1)[0] == demo_vacancies(seed=2)[0] == demo_vacancies(n=1)[0]


def test_rijnmond_has_forklift_and_warehouse_candidates(candidates: list[dict[str, Any]]) -> None:
    rijnmond = [c for c in candidates if c["postcode"][:4] in RIJNMOND]
    forklift = [c for c in rijnmond if FORKLIFT_RE.search(c["cv_text"])]
    assert len(forklift) >= 12


def test_rijnmond_has_care_and_catering_candidates(candidates: list[dict[str, Any]]) -> None:
    rijnmond = [c for c in candidates if c["postcode"][:4] in RIJNMOND]
    others = [c for c in rijnmond if not FORKLIFT_RE.search(c["cv_text"])]
    care_catering = [c for c in others if CARE_CATERING_RE.search(c["cv_text"])]
    assert len(care_catering) >= 12


def test_rijnmond_quotas_hold_for_other_seeds() -> None:
    for seed in (1, 2, 3):
        rijnmond = [c for c in demo_candidates(seed=seed) if c["postcode"][:4] in RIJNMOND]
        assert sum(bool(FORKLIFT_RE.search(c["cv_text"])) for c in rijnmond) >= 12, seed


# --- focus occupations ------------------------------------------------------------------------


def test_focus_occupations_shape() -> None:
    focus = focus_occupations()
    slugs = [f["slug"] for f in focus]
    assert len(set(slugs)) == len(slugs)
    for f in focus:
        assert set(f) == {"slug", "name", "synonyms"}
        assert SLUG_RE.fullmatch(f["slug"]), f["slug"]
        assert f["name"].strip() == f["name"] != ""
        assert 2 <= len(f["synonyms"]) <= 6, f["slug"]
        assert len({s.lower() for s in f["synonyms"]}) == len(f["synonyms"]), f["slug"]
        assert f["name"].lower() not in {s.lower() for s in f["synonyms"]}, f["slug"]


def test_focus_occupations_include_the_key_ones() -> None:
    by_slug = {f["slug"]: f for f in focus_occupations()}
    for slug in ("heftruckchauffeur", "magazijnmedewerker", "productiemedewerker", "schoonmaker",
                 "verzorgende-ig", "kok", "hovenier", "verkoopmedewerker",
                 "administratief-medewerker", "installatiemonteur"):  # fmt: skip
        assert slug in by_slug, slug
    heftruck = by_slug["heftruckchauffeur"]
    assert heftruck["name"] == "Heftruckchauffeur"
    assert {"vorkheftruckchauffeur", "vorkheftruckbestuurder", "heftruckbestuurder",
            "reachtruckchauffeur"} <= set(heftruck["synonyms"])  # fmt: skip
    assert {"medewerker magazijn", "orderpicker", "logistiek medewerker"} <= set(
        by_slug["magazijnmedewerker"]["synonyms"]
    )


def test_focus_occupations_cover_all_ten_sectors() -> None:
    assert set(SECTORS) == {"logistiek", "productie", "schoonmaak", "zorg", "horeca", "groen",
                            "bouw", "retail", "techniek", "administratie"}  # fmt: skip
    assert {o.sector for o in OCCUPATIONS} == set(SECTORS)
    assert [o.slug for o in OCCUPATIONS] == [f["slug"] for f in focus_occupations()]


def test_focus_occupations_returns_a_fresh_copy() -> None:
    focus = focus_occupations()
    focus[0]["synonyms"].append("changed")
    assert "changed" not in focus_occupations()[0]["synonyms"]


# --- the building blocks in demo/*.json --------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
# The placeholders each sentence table may use: what the generator passes to str.format.
PLACEHOLDERS: dict[str, set[str]] = {
    "JOB_LINES": {"start", "end", "years", "role", "place"},
    "TASK_LINES": {"tasks"},
    "ACHIEVEMENT_LINES": set(),
    "LEAVING_LINES": set(),
    "PROFILE_LINES": {"domain"},
    "VOLUNTEER_LINES": {"year"},
    "SWITCH_LINES": {"domain"},
    "CERT_LINES": {"certs"},
    "EDUCATION_LINES": {"edu"},
    "LANGUAGE_LINES": {"langs"},
    "HOURS_LINES": {"hours"},
    "AVAILABLE_LINES": {"date"},
    "OPENING_LINES": {"occupation"},
    "LICENCE_LINES": set(),
    "VACANCY_TASK_LINES": {"task"},
    "VACANCY_CERT_LINES": {"certs"},
    "VACANCY_SOFT_LINES": set(),
    "VACANCY_OFFERS": set(),
    "VACANCY_CLOSINGS": set(),
    "KIND_OFFERS": set(),
}


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    return [s for item in value for s in _strings(item)]


def test_blocks_are_typed_records_and_tuples() -> None:
    assert all(type(s) is Sector and s.key == key for key, s in SECTORS.items())
    assert all(type(s.key) is str for s in SECTORS.values())
    assert all(type(o) is Occupation for o in OCCUPATIONS)
    assert all(type(r) is Region and r.key == key for key, r in REGIONS.items())
    assert all(type(e) is Employer for e in EMPLOYERS)
    records: list[Sector | Occupation | Region | Employer] = [
        *SECTORS.values(), *OCCUPATIONS, *REGIONS.values(), *EMPLOYERS
    ]  # fmt: skip
    for record in records:
        for field in dataclasses.fields(record):
            value = getattr(record, field.name)
            if str(field.type).startswith("tuple"):
                assert type(value) is tuple and value, (record, field.name)
    assert all(type(o.licence) is float and 0 <= o.licence <= 1 for o in OCCUPATIONS)
    assert all(type(site) is tuple and len(site) == 2 for e in EMPLOYERS for site in e.sites)


def test_blocks_refer_to_each_other() -> None:
    levels = demo_data.EDUCATION_LEVELS
    assert len({o.slug for o in OCCUPATIONS}) == len(OCCUPATIONS)
    for o in OCCUPATIONS:
        assert o.sector in SECTORS, o.slug
        assert set(o.education) <= set(levels), o.slug
    assert len({e.slug for e in EMPLOYERS}) == len(EMPLOYERS)
    for e in EMPLOYERS:
        assert e.region in REGIONS, e.slug
        assert set(e.sectors) <= set(SECTORS), e.slug
        for postcode, place in e.sites:
            assert POSTCODE_RE.fullmatch(postcode), e.slug
            assert postcode[:4] in REGIONS[e.region].pc4, (e.slug, postcode)
            assert place in REGIONS[e.region].places, (e.slug, place)
    for languages, weight in demo_data.LANGUAGE_PROFILES:
        assert set(languages) <= set(demo_data.LANGUAGE_NAMES) and weight >= 1
    for slugs, count in demo_data.RIJNMOND_QUOTAS:
        assert {o.slug for o in OCCUPATIONS} >= set(slugs) and count >= 1
    assert set(demo_data.EDUCATION_PHRASES) == set(demo_data.EDUCATION_NAMES) == set(levels)
    assert set(demo_data.EDUCATION_REQUIREMENTS) == {None, *levels}
    assert set(demo_data.KIND_OFFERS) == {"regular", "work_experience", "volunteer", "learn_work"}
    voices = demo_data.VOICES
    for name in PLACEHOLDERS:
        table = getattr(demo_data, name)
        if name == "LICENCE_LINES":
            assert set(table) == {(v, licence) for v in voices for licence in (True, False)}
        elif name.endswith("_LINES") and not name.startswith("VACANCY_"):
            assert list(table) == list(voices), name
    assert demo_data.VAC_0001["employer_id"] == EMPLOYERS[0].slug
    assert len(demo_data.MONTHS) == 12


def test_sentences_use_only_the_placeholders_the_generator_fills() -> None:
    for name, allowed in PLACEHOLDERS.items():
        for template in _strings(getattr(demo_data, name)):
            assert _placeholders(template) <= allowed, (name, template)
            if not allowed:
                assert "{" not in template and "}" not in template, (name, template)
    for sector in SECTORS.values():
        assert all(_placeholders(intro) == {"place"} for intro in sector.intros), sector.key
        assert not _placeholders(sector.pay), sector.key
    for o in OCCUPATIONS:
        for field in ("roles", "tasks", "titles", "title_extras", "skills", "certificates"):
            assert all("{" not in s for s in getattr(o, field)), (o.slug, field)


def test_the_regions_file_carries_the_geonames_attribution() -> None:
    regions = json.loads((DATA_DIR / "regions.json").read_text(encoding="utf-8"))
    assert "GeoNames" in regions["_source"] and "CC BY 4.0" in regions["_source"]


def test_loading_a_copy_gives_the_module_blocks(tmp_path: Path) -> None:
    shutil.copytree(DATA_DIR, tmp_path / "demo")
    blocks = load_blocks(tmp_path / "demo")
    assert blocks == {name: getattr(demo_data, name) for name in blocks}
    assert {"SECTORS", "OCCUPATIONS", "REGIONS", "EMPLOYERS", "VAC_0001"} <= set(blocks)


def test_the_data_files_are_package_data() -> None:
    """An installed package (and the image, which pip-installs the tree) must hold every file."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = pyproject["tool"]["setuptools"]["package-data"]["service"]
    files = [p.relative_to(ROOT / "service").as_posix() for p in DATA_DIR.iterdir()]
    assert files
    for file in files:
        assert any(fnmatch(file, pattern) for pattern in globs), file


def _set(path: list[str | int], value: object) -> Callable[[Any], None]:
    def edit(data: Any) -> None:
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value

    return edit


def _delete(path: list[str | int]) -> Callable[[Any], None]:
    def edit(data: Any) -> None:
        for key in path[:-1]:
            data = data[key]
        del data[path[-1]]

    return edit


@pytest.mark.parametrize(
    ("file", "edit", "message"),
    [
        ("occupations.json", _set(["occupations", 3, "sector"], "logistik"),
         "occupations.json: occupations[3].sector: unknown sector 'logistik'"),
        ("occupations.json", _set(["occupations", 0, "licence"], 2),
         "occupations.json: occupations[0].licence: expected a number from 0 to 1"),
        ("occupations.json", _set(["occupations", 1, "sectr"], "logistiek"),
         "occupations.json: occupations[1].sectr: unknown key"),
        ("occupations.json", _set(["occupations", 2, "tasks"], []),
         "occupations.json: occupations[2].tasks: expected a non-empty list"),
        ("occupations.json", _set(["occupations", 4, "education", 0], "mbo5"),
         "occupations.json: occupations[4].education[0]: unknown education level 'mbo5'"),
        ("sectors.json", _set(["sectors", 1, "weight"], "12"),
         "sectors.json: sectors[1].weight: expected a whole number"),
        ("sectors.json", _delete(["sectors", 0, "pay"]), "sectors.json: sectors[0].pay: missing"),
        ("regions.json", _set(["regions", 0, "pc4", 2], "298"),
         "regions.json: regions[0].pc4[2]: expected a PC4"),
        ("employers.json", _set(["employers", 5, "region"], "limburg"),
         "employers.json: employers[5].region: unknown region 'limburg'"),
        ("employers.json", _set(["employers", 0, "sites", 1, "postcode"], "9711AA"),
         "employers.json: employers[0].sites[1].postcode: unknown PC4 of the region '9711'"),
        ("languages.json", _set(["profiles", 2, "languages", 0], "xx"),
         "languages.json: profiles[2].languages[0]: unknown language 'xx'"),
        ("education.json", _delete(["requirements", 0]),
         "education.json: requirements: no text for level None"),
        ("education.json", _delete(["phrases", "mbo3"]), "education.json: phrases.mbo3: missing"),
        ("candidates.json", _delete(["job_lines", "kandidaat"]),
         "candidates.json: job_lines.kandidaat: missing"),
        ("candidates.json", _set(["licence_lines", 1, "licence"], "no"),
         "candidates.json: licence_lines[1].licence: expected true or false"),
        ("candidates.json", _set(["rijnmond_quotas", 0, "occupations", 1], "stuurman"),
         "candidates.json: rijnmond_quotas[0].occupations[1]: unknown occupation 'stuurman'"),
        ("vacancies.json", _set(["vac_0001", "employer_id"], "grand-cafe-amstelzijde"),
         "vacancies.json: vac_0001.employer_id: must be the first employer"),
        ("vacancies.json", _set(["kind_offers"], []), "vacancies.json: kind_offers: expected"),
    ],
)  # fmt: skip
def test_a_malformed_file_fails_naming_the_file_and_the_key(
    tmp_path: Path, file: str, edit: Callable[[Any], None], message: str
) -> None:
    directory = tmp_path / "demo"
    shutil.copytree(DATA_DIR, directory)
    data = json.loads((directory / file).read_text(encoding="utf-8"))
    edit(data)
    (directory / file).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DemoDataError, match=re.escape(message)):
        load_blocks(directory)


def test_a_missing_or_broken_file_fails_naming_the_file(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    shutil.copytree(DATA_DIR, directory)
    (directory / "sectors.json").write_text('{"sectors": [', encoding="utf-8")
    with pytest.raises(
        DemoDataError, match=r"^sectors\.json: \(top level\): cannot read .*sectors\.json"
    ):
        load_blocks(directory)
    (directory / "regions.json").unlink()
    shutil.copy(DATA_DIR / "sectors.json", directory / "sectors.json")
    with pytest.raises(DemoDataError, match=r"^regions\.json: \(top level\): cannot read"):
        load_blocks(directory)
