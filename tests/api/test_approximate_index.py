"""The approximate (IVF) layout through the API: same answers, filters and erasure honoured."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from matching.embedder import Encoder
from service.config import Settings
from tests.auth import api_client
from tests.databases import BACKENDS, copy_database, copy_source, drop_database
from tests.factories import CARE_CV, CATERING_CV, FORKLIFT_CV, HEFTRUCK_FOCUS, candidate, vacancy

VAC_URL = "/v1/employers/transport-rijnmond/vacancies/vac-1"
CVS = {"forklift": FORKLIFT_CV, "care": CARE_CV, "catering": CATERING_CV}


def _client(settings: Settings, encoder: Encoder, **overrides: object) -> TestClient:
    return api_client(settings.model_copy(update=overrides), encoder)


@pytest.fixture(scope="module", params=BACKENDS)
def seeded_source(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, encoder: Encoder
) -> Iterator[Path | str]:
    """24 candidates in three kinds of work, stored once per backend for the module (a SQLite
    file or a PostgreSQL template)."""
    folder = tmp_path_factory.mktemp("seeded")
    template = "sqlite_template" if request.param == "sqlite" else "pg_template"
    url = copy_database(request.getfixturevalue(template), folder)
    try:
        _seed(Settings(database_url=url, data_dir=folder / "data"), encoder)
        yield copy_source(url)
    finally:
        drop_database(url)


@pytest.fixture
def seeded(seeded_source: Path | str, encoder: Encoder, tmp_path: Path) -> Iterator[Settings]:
    """A copy of the seeded database for one test, with the snapshot an app on the default
    settings leaves at shutdown (as the seeding app did); each test restarts on them."""
    url = copy_database(seeded_source, tmp_path)
    try:
        settings = Settings(database_url=url, data_dir=tmp_path / "data")
        with _client(settings, encoder):
            pass  # a snapshot is bound to its database: the seeding's is not this copy's
        yield settings
    finally:
        drop_database(url)


def _seed(settings: Settings, encoder: Encoder) -> None:
    with _client(settings, encoder) as c:
        assert c.put("/v1/focus-occupations/heftruckchauffeur", json=HEFTRUCK_FOCUS).is_success
        for n in range(24):
            kind = list(CVS)[n % 3]
            body = candidate(
                CVS[kind] + f"\nReferentie {n}.",
                desired_occupations=["heftruckchauffeur"] if kind == "forklift" else ["kok"],
                client_group="matchen" if n % 2 else "groeien",
            )
            assert c.put(f"/v1/candidates/{kind}-{n}", json=body).status_code == 201
        assert c.put(VAC_URL, json=vacancy()).status_code == 201


def _ids(resp) -> list[str]:  # type: ignore[no-untyped-def]
    assert resp.status_code == 200, resp.text
    return [i["candidate_id"] for i in resp.json()["data"]]


def test_ivf_layout_answers_like_the_exact_one(seeded: Settings, encoder: Encoder) -> None:
    params = {"limit": 8, "client_group": "matchen"}
    with _client(seeded, encoder, index_kind="flat") as c:
        exact = _ids(c.get(f"{VAC_URL}/matches", params=params))
    with _client(seeded, encoder, index_kind="ivf", ivf_nlist=4) as c:
        approx = _ids(c.get(f"{VAC_URL}/matches", params=params))
        index = c.app.state.werkmatch.index.matcher.candidates.index
        assert (index.kind, index.nlist) == ("ivf", 4)
    assert len(approx) == 8
    assert all(int(i.split("-")[1]) % 2 for i in approx)  # the filter holds
    assert approx[0].startswith("forklift")
    assert len(set(approx) & set(exact)) >= 7  # recall@8 >= 0.875 on this fixed set


def test_ivf_layout_forgets_erased_candidates_and_learns_new_ones(
    seeded: Settings, encoder: Encoder
) -> None:
    with _client(seeded, encoder, index_kind="ivf", ivf_nlist=4) as c:
        first = _ids(c.get(f"{VAC_URL}/matches", params={"limit": 5}))[0]
        assert c.delete(f"/v1/candidates/{first}").status_code == 204
        after = _ids(c.get(f"{VAC_URL}/matches", params={"limit": 50}))
        assert first not in after and len(after) == 23
        assert c.put("/v1/candidates/new-one", json=candidate()).status_code == 201
        assert "new-one" in _ids(c.get(f"{VAC_URL}/matches", params={"limit": 50}))
    with _client(seeded, encoder, index_kind="ivf", ivf_nlist=4) as c:  # after a restart
        again = _ids(c.get(f"{VAC_URL}/matches", params={"limit": 50}))
        assert first not in again and "new-one" in again


def test_bad_index_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="index_kind"):
        Settings(index_kind="hnsw")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ivf_nlist"):
        Settings(ivf_nlist=0)


def test_ivf_snapshot_is_reloaded_with_its_layout_and_filters(
    seeded: Settings, encoder: Encoder
) -> None:
    ivf = {"index_kind": "ivf", "ivf_nlist": 4}
    params = {"limit": 8, "client_group": "matchen"}
    with _client(seeded, encoder, **ivf) as c:  # rebuilds as IVF; shutdown writes a snapshot
        assert c.app.state.werkmatch.index.loaded_from == "database"
        before = _ids(c.get(f"{VAC_URL}/matches", params=params))
    with _client(seeded, encoder, **ivf) as c:
        state = c.app.state.werkmatch.index
        assert state.loaded_from == "snapshot"
        assert state.matcher.candidates.index.kind == "ivf"
        assert _ids(c.get(f"{VAC_URL}/matches", params=params)) == before  # filter columns too
    with _client(seeded, encoder, index_kind="flat") as c:  # settings changed: not the snapshot
        state = c.app.state.werkmatch.index
        assert state.loaded_from == "database"
        assert state.matcher.candidates.index.kind == "flat"
