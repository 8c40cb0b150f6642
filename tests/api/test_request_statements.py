"""The database work of one match answer is bounded: one write (the audit records, one
multi-row insert) and a fixed handful of reads, whatever the number of candidates or of
returned rows. Counted with a cursor listener on the app's engine, on both backends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from tests.factories import CARE_CV, CATERING_CV, FORKLIFT_CV, candidate, vacancy

VAC_URL = "/v1/employers/e/vacancies/heftruck"
_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_TRANSACTION = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


@contextmanager
def _statements(engine: Engine) -> Iterator[list[tuple[str, int]]]:
    """(SQL, number of parameter sets) of every statement the engine sends meanwhile."""
    seen: list[tuple[str, int]] = []

    def listen(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if not _TRANSACTION.match(statement):
            sets = len(parameters) if executemany and parameters else 1
            seen.append((statement, sets))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def _fill(client: TestClient) -> None:
    assert client.put(VAC_URL, json=vacancy()).status_code in (200, 201)
    for i, cv in enumerate([FORKLIFT_CV, CATERING_CV, CARE_CV] * 4):
        r = client.put(f"/v1/candidates/k-{i}", json=candidate(cv, postcode="3011AA"))
        assert r.status_code in (200, 201), r.text


def _split(seen: list[tuple[str, int]]) -> tuple[list[tuple[str, int]], list[str]]:
    writes = [(s, n) for s, n in seen if _WRITE.match(s)]
    reads = [s for s, _ in seen if not _WRITE.match(s)]
    return writes, reads


def test_a_match_answer_writes_once_and_reads_a_fixed_few(client: TestClient) -> None:
    _fill(client)
    engine = client.app.state.werkmatch.engine  # type: ignore[attr-defined]
    client.get(f"{VAC_URL}/matches")  # the first answer may catch up with the writes above
    for url in (f"{VAC_URL}/matches?limit=20", f"{VAC_URL}/matches?limit=3&ladder_step_min=1"):
        with _statements(engine) as seen:
            r = client.get(url)
        assert r.status_code == 200, r.text
        shown = len(r.json()["data"])
        assert shown >= 3
        writes, reads = _split(seen)
        # one INSERT statement into the audit log, with a row per candidate shown in it
        assert [(w.split()[2].strip('"'), n) for w, n in writes] == [("audit_event", 1)], writes
        assert writes[0][0].count("VALUES") == 1 and writes[0][0].count("), (") == shown - 1
        assert len(reads) <= 3, reads
