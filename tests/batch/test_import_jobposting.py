"""`werkmatch import vacancies` with JSON-lines of schema.org JobPostings, good and bad lines."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from matching.embedder import Encoder
from service.cli import app
from service.config import get_settings
from service.store.db import make_engine
from service.store.models import Vacancy
from tests.api.test_jobposting import DUTCH_POSTING, ENGLISH_POSTING
from tests.factories import vacancy

runner = CliRunner()


@pytest.fixture
def env(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoder: Encoder
) -> Iterator[str]:
    """The database for the command; the model is loaded (and cached) before, not during, it."""
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", db_url)
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


def _posting(base: dict, identifier: object, **changes: object) -> str:
    doc = copy.deepcopy(base)
    doc["identifier"] = identifier
    doc.update(changes)
    return json.dumps(doc, ensure_ascii=False)


def test_import_jobposting_lines(env: str, tmp_path: Path) -> None:
    org_with_id = {"@type": "Organization", "name": "Zorg", "identifier": "zorg-rdam"}
    lines = [
        _posting(DUTCH_POSTING, "jp-nl-1"),
        _posting(
            ENGLISH_POSTING,
            {"@type": "PropertyValue", "name": "ref", "value": "jp-en-1"},
            hiringOrganization=org_with_id,
        ),
        json.dumps({"external_id": "plain-1", **vacancy()}),  # plain lines still work
        _posting(DUTCH_POSTING, None),
        _posting(DUTCH_POSTING, "jp-nl-2", workHours="70 uur"),
        _posting(DUTCH_POSTING, "jp-nl-3", validThrough="binnenkort"),
    ]
    path = tmp_path / "postings.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(
        app, ["import", "vacancies", str(path), "--employer-id", "emp-x", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert (summary["created"], summary["rejected"]) == (3, 3), summary
    reasons = {r["line"]: r["reason"] for r in summary["rejections"]}
    assert reasons[4].startswith("identifier")
    assert reasons[5].startswith("workHours")
    assert reasons[6].startswith("validThrough")
    engine = make_engine(env)
    with Session(engine) as session:
        rows = {v.external_id: v for v in session.exec(select(Vacancy)).all()}
    engine.dispose()
    assert set(rows) == {"jp-nl-1", "jp-en-1", "plain-1"}
    assert rows["jp-en-1"].employer_id == "emp-x"  # --employer-id wins over the organisation's
    assert rows["jp-nl-1"].occupation_code == "8344" and rows["jp-nl-1"].postcode == "2983AB"
    assert rows["jp-nl-1"].extra_properties is not None
    assert rows["jp-nl-1"].extra_properties["identifier"] == "jp-nl-1"
    assert rows["plain-1"].extra_properties is None


def test_import_jobposting_employer_from_organisation_or_rejected(env: str, tmp_path: Path) -> None:
    org_with_id = {"@type": "Organization", "name": "Zorg", "identifier": "zorg-rdam"}
    path = tmp_path / "p.jsonl"
    path.write_text(
        _posting(ENGLISH_POSTING, "jp-en-2", hiringOrganization=org_with_id)
        + "\n"
        + _posting(ENGLISH_POSTING, "jp-en-3")
        + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["import", "vacancies", str(path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["created"] == 1
    assert summary["rejections"] == [
        {
            "line": 2,
            "reason": "hiringOrganization.identifier: required unless --employer-id is given",
        }
    ]
    engine = make_engine(env)
    with Session(engine) as session:
        [row] = session.exec(select(Vacancy)).all()
    engine.dispose()
    assert (row.employer_id, row.external_id) == ("zorg-rdam", "jp-en-2")


def test_import_refuses_unbounded_json_per_line(env: str, tmp_path: Path) -> None:
    """The import is an intake path too: too deep or too big free JSON is a rejected line,
    nothing of it stored, and the other lines still go in."""
    deep = '{"a":' * 3000 + "1" + "}" * 3000
    plain = json.dumps({"external_id": "plain-deep", **vacancy()})[:-1]
    lines = [
        plain + f', "extra_properties": {deep}}}',
        _posting(DUTCH_POSTING, "jp-deep", baseSalary=json.loads('{"a":' * 40 + "1" + "}" * 40)),
        _posting(DUTCH_POSTING, "jp-big", baseSalary={"note": "x" * 20_000}),
        _posting(DUTCH_POSTING, "jp-twice")[:-1] + ', "title": "Kok"}',
        _posting(DUTCH_POSTING, "jp-ok"),
    ]
    path = tmp_path / "deep.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(
        app, ["import", "vacancies", str(path), "--employer-id", "emp-x", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert (summary["created"], summary["rejected"]) == (1, 4), summary
    reasons = {r["line"]: r["reason"] for r in summary["rejections"]}
    assert reasons[1].startswith("extra_properties: JSON nested deeper than 32")
    assert reasons[2].startswith("baseSalary: JSON nested deeper than 32")
    assert reasons[3].startswith("baseSalary:") and "bytes" in reasons[3]
    assert reasons[4] == "title: given more than once in one object"
    engine = make_engine(env)
    with Session(engine) as session:
        assert [v.external_id for v in session.exec(select(Vacancy)).all()] == ["jp-ok"]
    engine.dispose()
