"""The inferred_occupations migration keeps existing rows (empty), and the backfill command
`werkmatch occupations infer` reads them, on both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import Session, select
from typer.testing import CliRunner

from matching.embedder import Encoder
from service.cli import app
from service.config import get_settings
from service.store import crud
from service.store.db import alembic_config, make_engine
from service.store.models import Candidate, CandidateIn, ChangeLog, Vacancy, VacancyIn
from tests.factories import FORKLIFT_VACANCY, candidate

runner = CliRunner()
ESCO_SUBSET = Path(__file__).resolve().parents[1] / "data" / "esco_subset"
HEFTRUCK = "http://data.europa.eu/esco/occupation/eeac6251-1974-42f5-91ed-513c6c883755"
BEFORE = "8d3f5a1c2e90"  # the revision before inferred_occupations
CV = "Magazijnmedewerker met heftruckcertificaat en reachtruckervaring. Vijf jaar orderpicken."


@pytest.fixture
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", db_url)
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


def _inferred(db_url: str) -> dict[str, list[str]]:
    engine = make_engine(db_url)
    with Session(engine) as session:
        rows = [
            *session.exec(select(Candidate)).all(),
            *session.exec(select(Vacancy)).all(),
        ]
        out = {r.external_id: [o["uri"] for o in r.inferred_occupations] for r in rows}
    engine.dispose()
    return out


def test_migration_keeps_rows_and_the_backfill_reads_them(env: str, encoder: Encoder) -> None:
    db_url = env
    result = runner.invoke(app, ["occupations", "import", str(ESCO_SUBSET)])
    assert result.exit_code == 0, result.output
    engine = make_engine(db_url)
    with Session(engine) as session:
        crud.upsert_many(
            session=session,
            kind=crud.CANDIDATES,
            items=[({"external_id": "c"}, CandidateIn(**candidate(CV, desired_occupations=[])))],
            encoder=encoder,
        )
        no_occupation = {**FORKLIFT_VACANCY, "occupation": None, "title": "Collega gezocht"}
        crud.upsert_many(
            session=session,
            kind=crud.VACANCIES,
            items=[({"employer_id": "e", "external_id": "v"}, VacancyIn(**no_occupation))],
            encoder=encoder,
        )
    assert HEFTRUCK in _inferred(db_url)["c"] and HEFTRUCK in _inferred(db_url)["v"]

    # Rows written before the column existed: down one revision and up again.
    command.downgrade(alembic_config(db_url), BEFORE)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM candidate")).scalar_one() == 1
    command.upgrade(alembic_config(db_url), "head")
    assert _inferred(db_url) == {"c": [], "v": []}
    with Session(engine) as session:
        seq_before = max(session.exec(select(ChangeLog.seq)).all())

    result = runner.invoke(app, ["occupations", "infer", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["changed"] == {"vacancies": 1, "candidates": 1}
    assert HEFTRUCK in _inferred(db_url)["c"] and HEFTRUCK in _inferred(db_url)["v"]
    with Session(engine) as session:  # running services re-index the changed rows
        logged = session.exec(select(ChangeLog).where(ChangeLog.seq > seq_before)).all()  # type: ignore[operator]
        assert sorted(e.entity for e in logged) == ["candidate", "vacancy"]
    engine.dispose()

    again = runner.invoke(app, ["occupations", "infer", "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.output.strip().splitlines()[-1])["changed"] == {
        "vacancies": 0,
        "candidates": 0,
    }


def test_backfill_needs_the_occupations_and_a_migrated_database(
    env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = runner.invoke(app, ["occupations", "infer"])
    assert result.exit_code == 1 and "werkmatch occupations import" in result.output
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    result = runner.invoke(app, ["occupations", "infer"])
    assert result.exit_code == 1 and "werkmatch migrate" in result.output
