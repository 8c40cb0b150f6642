"""schema.org JobPosting intake on the vacancy PUT: Dutch and English documents, bad input."""

from __future__ import annotations

import copy
import json
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import candidate

URL = "/v1/employers/emp-jp/vacancies/jp-1"
LD = {"Content-Type": "application/ld+json"}

DUTCH_POSTING: dict[str, Any] = {
    "@context": "https://schema.org/",
    "@type": "JobPosting",
    "title": "Heftruckchauffeur (m/v) 32 uur",
    "description": (
        "<h2>Wat ga je doen?</h2><p>Voor ons distributiecentrum in Ridderkerk zoeken wij een "
        "<strong>heftruckchauffeur</strong>. Je laadt en lost vrachtwagens en verplaatst pallets "
        "met de heftruck &amp; reachtruck.</p><ul><li>Werken met een handscanner</li>"
        "<li>Geldig heftruckcertificaat</li></ul><script>alert('x')</script>"
        "<style>p{color:red}</style>"
    ),
    "hiringOrganization": {
        "@type": "Organization",
        "name": "Voorbeeld Logistiek B.V.",
        "sameAs": "https://example.org",
    },
    "jobLocation": {
        "@type": "Place",
        "address": {
            "@type": "PostalAddress",
            "streetAddress": "Havenweg 1",
            "postalCode": "2983 ab",
            "addressLocality": "Ridderkerk",
            "addressCountry": "NL",
        },
    },
    "workHours": "32 uur per week",
    "employmentType": ["PART_TIME", "TEMPORARY"],
    "occupationalCategory": "8344 Heftruckchauffeur",
    "skills": "heftruck rijden, laden en lossen; orderpicken",
    "educationRequirements": "Minimaal mbo niveau 2",
    "validThrough": "2026-12-31T23:59:59+01:00",
    "datePosted": "2026-11-20",
    "baseSalary": {
        "@type": "MonetaryAmount",
        "currency": "EUR",
        "value": {"@type": "QuantitativeValue", "minValue": 2600, "maxValue": 3000},
    },
    "industry": "Logistiek",
}

ENGLISH_POSTING: dict[str, Any] = {
    "@context": "https://schema.org",
    "@type": "JobPosting",
    "title": "Care assistant (home care)",
    "description": (
        "<p>We are looking for a <em>care assistant</em> to support elderly clients at home "
        "with personal care, medication and reporting in the care file.</p>"
    ),
    "hiringOrganization": "Example Home Care Foundation",
    "jobLocation": [
        {
            "@type": "Place",
            "address": {
                "@type": "PostalAddress",
                "postalCode": "3011",
                "addressLocality": "Rotterdam",
            },
        }
    ],
    "workHours": "24-28 hours per week",
    "employmentType": "PART_TIME",
    "occupationalCategory": {
        "@type": "CategoryCode",
        "codeValue": "5322",
        "name": "Home-based personal care workers",
        "inCodeSet": "ISCO-08",
    },
    "skills": [{"@type": "DefinedTerm", "name": "personal care"}, "reporting"],
    "educationRequirements": {
        "@type": "EducationalOccupationalCredential",
        "credentialCategory": "professional certificate",
    },
    "validThrough": "2027-01-15",
    "datePosted": "2026-11-25T09:00:00Z",
    "jobLocationType": "ONSITE",
}


def test_dutch_jobposting_is_mapped_and_extras_kept(client: TestClient) -> None:
    resp = client.put(URL, content=json.dumps(DUTCH_POSTING), headers=LD)
    assert resp.status_code == 201, resp.text
    got = resp.json()
    assert got["title"] == "Heftruckchauffeur (m/v) 32 uur"
    assert got["description"].startswith("Wat ga je doen?\nVoor ons distributiecentrum")
    assert "heftruck & reachtruck" in got["description"]
    assert "- Werken met een handscanner" in got["description"]
    for markup in ("<", "alert", "color:red"):
        assert markup not in got["description"]
    assert got["employer_name"] == "Voorbeeld Logistiek B.V."
    assert got["postcode"] == "2983AB" and got["locality"] == "Ridderkerk"
    assert got["hours_per_week"] == 32
    assert got["employment_type"] == ["PART_TIME", "TEMPORARY"]
    assert got["occupation_code"] == "8344" and got["occupation"] == "Heftruckchauffeur"
    assert got["skills"] == ["heftruck rijden", "laden en lossen", "orderpicken"]
    assert got["education_level"] == "mbo2"
    assert got["closes_on"] == "2026-12-31" and got["posted_on"] == "2026-11-20"
    assert got["extra_properties"] == {
        "baseSalary": DUTCH_POSTING["baseSalary"],
        "industry": "Logistiek",
        # What the mapped fields cannot hold (the Organization's sameAs, the street) is kept.
        "hiringOrganization": DUTCH_POSTING["hiringOrganization"],
        "jobLocation": DUTCH_POSTING["jobLocation"],
    }
    assert client.get(URL).json() == got
    # Same document again: unchanged, not rewritten.
    again = client.put(URL, content=json.dumps(DUTCH_POSTING), headers=LD)
    assert again.status_code == 200 and again.json()["updated_at"] == got["updated_at"]


def test_english_jobposting_is_mapped(client: TestClient) -> None:
    resp = client.put(URL, content=json.dumps(ENGLISH_POSTING), headers=LD)
    assert resp.status_code == 201, resp.text
    got = resp.json()
    assert got["employer_name"] == "Example Home Care Foundation"
    assert got["postcode"] == "3011" and got["locality"] == "Rotterdam"
    assert got["hours_per_week"] == 28
    assert got["occupation_code"] == "5322"
    assert got["occupation"] == "Home-based personal care workers"
    assert got["skills"] == ["personal care", "reporting"]
    # "professional certificate" names no level: kept aside rather than guessed.
    assert got["education_level"] is None
    assert got["extra_properties"] == {
        "jobLocationType": "ONSITE",
        "educationRequirements": ENGLISH_POSTING["educationRequirements"],
        "workHours": "24-28 hours per week",  # a range says more than its highest number
    }
    assert got["closes_on"] == "2027-01-15" and got["posted_on"] == "2026-11-25"


def test_jobposting_vacancy_is_matched(client: TestClient) -> None:
    client.put("/v1/candidates/c-forklift", json=candidate())
    client.put(URL, content=json.dumps(DUTCH_POSTING), headers=LD)
    matches = client.get(URL + "/matches").json()
    assert [m["candidate_id"] for m in matches["data"]] == ["c-forklift"]
    assert matches["data"][0]["score"] > 0.5


def test_jobposting_json_body_with_type_is_recognised(client: TestClient) -> None:
    resp = client.put(URL, json=DUTCH_POSTING)  # application/json, but @type says JobPosting
    assert resp.status_code == 201 and resp.json()["occupation_code"] == "8344"


def _with(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(DUTCH_POSTING)
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


def _postal(code: str) -> dict[str, Any]:
    return {"@type": "Place", "address": {"postalCode": code, "addressLocality": "X"}}


BAD_POSTINGS: list[tuple[Any, str]] = [
    (_with(title=None), "title"),
    (_with(description=None), "description"),
    (_with(title=["Heftruckchauffeur"]), "title"),
    (_with(title="t" * 201), "title"),
    (_with(description="<p>   </p><script>x</script>"), "description"),
    (_with(**{"@type": "Organization"}), "@type"),
    (_with(**{"@context": "https://example.org/vocab"}), "@context"),
    (_with(jobLocation=_postal("0123 AB")), "jobLocation.address.postalCode"),
    (_with(jobLocation="Ridderkerk"), "jobLocation"),
    (_with(workHours="80 uur per week"), "workHours"),
    (_with(workHours="1e3"), "workHours"),
    (_with(workHours="-5 uur"), "workHours"),
    (_with(workHours="32,5 uur"), "workHours"),
    (_with(workHours=-5), "workHours"),
    (_with(workHours=32.5), "workHours"),
    (_with(workHours="40-36 uur"), "workHours"),
    (_with(occupationalCategory="99999"), "occupationalCategory"),
    (_with(occupationalCategory="8344Kok"), "occupationalCategory"),
    (_with(jobLocation={"geo": {"latitude": 51.9}}), "jobLocation.geo"),
    (_with(jobLocation={"geo": {"longitude": 4.5}}), "jobLocation.geo"),
    (_with(employmentType="SOMETIMES"), "employmentType"),
    (_with(employmentType=["FULL_TIME", 3]), "employmentType.1"),
    (_with(occupationalCategory={"codeValue": "ABC"}), "occupationalCategory.codeValue"),
    (_with(skills=["ok", {"name": 5}]), "skills.1"),
    (_with(validThrough="31-12-2026"), "validThrough"),
    (_with(datePosted="gisteren"), "datePosted"),
    ([DUTCH_POSTING], "@type"),
]


def test_bad_jobposting_is_422_naming_the_property_and_changes_nothing(
    client: TestClient,
) -> None:
    # One database for all cases: each needs only the stored vacancy to stay as it was.
    before = client.put(URL, content=json.dumps(DUTCH_POSTING), headers=LD).json()
    for doc, prop in BAD_POSTINGS:
        resp = client.put(URL, content=json.dumps(doc), headers=LD)
        assert resp.status_code == 422, (prop, resp.text)
        assert [d["field"] for d in resp.json()["detail"]] == [prop], resp.json()
        assert client.get(URL).json() == before, prop


def test_not_json_and_wrong_media_type(client: TestClient) -> None:
    resp = client.put(URL, content=b"{not json", headers=LD)
    assert resp.status_code == 422 and resp.json()["detail"][0]["field"] == "body"
    resp = client.put(URL, content=b"title=x", headers={"Content-Type": "text/plain"})
    assert resp.status_code == 415 and resp.json()["error"] == "unsupported_media_type"
    assert client.get(URL).status_code == 404


KEPT_VERBATIM: list[tuple[str, Any]] = [
    ("workHours", "abc"),
    ("workHours", "8am-5pm, night shift"),
    ("jobLocation", [_postal("2983 AB"), _postal("3011 AA")]),  # a second Place
    ("jobLocation", {"@type": "Place", "address": "Havenweg 1, 2983 AB Ridderkerk"}),
    (
        "jobLocation",
        {"address": {"postalCode": "2000", "addressLocality": "Antwerpen", "addressCountry": "BE"}},
    ),
    ("hiringOrganization", [{"name": "A B.V."}, {"name": "B B.V."}]),
    ("occupationalCategory", ["8344", "8332"]),
    ("skills", [{"@type": "DefinedTerm", "name": "heftruck", "termCode": "S1"}]),
]


def test_what_the_mapping_cannot_hold_is_kept_verbatim(client: TestClient) -> None:
    """Never dropped, never guessed: the whole property goes to extra_properties as sent."""
    for prop, value in KEPT_VERBATIM:
        doc = _with(**{prop: value})
        resp = client.put(URL, content=json.dumps(doc), headers=LD)
        assert resp.status_code in (200, 201), (prop, resp.text)
        assert resp.json()["extra_properties"][prop] == value, (prop, resp.json())
    belgian = client.put(
        URL, content=json.dumps(_with(jobLocation=KEPT_VERBATIM[4][1])), headers=LD
    )
    assert belgian.json()["postcode"] is None and belgian.json()["locality"] == "Antwerpen"
    words = client.put(URL, content=json.dumps(_with(workHours="abc")), headers=LD)
    assert words.json()["hours_per_week"] is None
    plain = {"@type": "Place", "address": {"postalCode": "2983 AB", "addressLocality": "X"}}
    whole = client.put(URL, content=json.dumps(_with(jobLocation=plain)), headers=LD).json()
    assert whole["postcode"] == "2983AB" and "jobLocation" not in whole["extra_properties"]
