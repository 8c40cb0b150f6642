"""Racing writes of one id across two real worker processes (`werkmatch serve --workers 2`):
the answers of a serial order, a consistent database, and only JSON lines in the server log."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from sqlmodel import Session, select

from service.store.db import make_engine
from service.store.models import Candidate, CandidateEmbedding, ChangeLog
from service.store.security_models import AuditEvent
from tests.factories import candidate
from tests.live_server import Call, race
from tests.reliability.processes import ServerProcess

RACERS = 8
ROUNDS = 3


def test_races_across_two_workers(db_url: str, tmp_path: Path) -> None:
    server = ServerProcess(
        {"WERKMATCH_DATABASE_URL": db_url, "WERKMATCH_DATA_DIR": str(tmp_path / "data")},
        tmp_path / "server.log",
    ).start()
    workers: set[str] = set()
    try:
        assert len(server.wait_ready()) == 2
        assert server.key is not None
        log_start = server.log_path.stat().st_size
        for r in range(ROUNDS):
            path = f"/v1/candidates/shared-{r}"
            firsts = race(server.base, server.key, [Call("PUT", path, candidate())] * RACERS)
            assert sorted(a.status_code for a in firsts) == [200] * (RACERS - 1) + [201]
            mixed = race(
                server.base,
                server.key,
                [
                    Call("PUT", path, candidate(skills=[f"vaardigheid {j}"]))
                    if j % 2
                    else Call("DELETE", path)
                    for j in range(RACERS)
                ],
            )
            codes = Counter(a.status_code for a in mixed)
            assert set(codes) <= {200, 201, 204, 404} and codes[204] - codes[201] in (0, 1)
            deletes = race(server.base, server.key, [Call("DELETE", path)] * RACERS)
            assert sorted(a.status_code for a in deletes) in (
                [204] + [404] * (RACERS - 1),  # the row was there after the mixed race
                [404] * RACERS,
            )
            workers |= {a.headers["x-werkmatch-worker"] for a in [*firsts, *mixed, *deletes]}
        with server.log_path.open("rb") as log:  # what the workers wrote while racing
            log.seek(log_start)
            raced = log.read().decode(errors="replace")
    finally:
        server.stop()
    assert len(workers) == 2, "the races did not reach both workers"
    engine = make_engine(db_url)
    with Session(engine) as s:
        assert s.exec(select(Candidate)).all() == []
        assert s.exec(select(CandidateEmbedding)).all() == []
        entries = s.exec(select(ChangeLog).order_by(ChangeLog.seq)).all()  # type: ignore[arg-type]
        last = {e.entity_id: e.op for e in entries}
        assert set(last.values()) == {"delete"}
        audited = s.exec(select(AuditEvent)).all()
        assert len(audited) == ROUNDS * RACERS * 3  # every racing request has its record
        assert not [a for a in audited if a.status >= 500]
    engine.dispose()
    not_json = []
    for line in (ln for ln in raced.splitlines() if ln.strip()):
        try:
            json.loads(line)
        except ValueError:
            not_json.append(line)
    assert not_json == [], not_json[:5]
