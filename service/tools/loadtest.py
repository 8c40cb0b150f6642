"""A bounded load run against a running service: concurrent clients on keep-alive connections,
mixed writes (create, update, delete) and match queries; then every acknowledged write is
verified. Dependency-free (``http.client``) so it runs wherever the service is installed.

Only made-up profiles are written, under ids starting with ``load-``.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

_CVS = (
    "Zes jaar heftruckchauffeur in een distributiecentrum: laden en lossen, orderpicken met de "
    "scanner, reachtruck in het hoogbouwmagazijn. Heftruckcertificaat en VCA.",
    "Verzorgende IG in de thuiszorg en een verpleeghuis: persoonlijke verzorging van ouderen, "
    "medicatie aanreiken, rapporteren in het zorgdossier. Diploma niveau 3.",
    "Hulpkok en afwasser in een restaurant, ook bediening op het terras. HACCP-certificaat, "
    "SVH Sociale Hygiëne, gewend aan drukke diensten in het weekend.",
    "Schoonmaker in kantoren en scholen, werken met de schrobzuigmachine, zelfstandig een "
    "object schoonhouden, avonduren geen probleem.",
)
_OCCUPATIONS = ("heftruckchauffeur", "verzorgende ig", "hulpkok", "schoonmaker")
_VACANCY = {
    "title": "Heftruckchauffeur (m/v) 32 uur",
    "description": "Distributiecentrum zoekt heftruckchauffeur voor laden en lossen met de "
    "heftruck en reachtruck. Heftruckcertificaat vereist.",
    "occupation": "heftruckchauffeur",
    "skills": ["heftruck rijden", "laden en lossen"],
    "hours_per_week": 32,
    "postcode": "2983 AB",
}


def _candidate(rng: random.Random) -> dict[str, Any]:
    k = rng.randrange(len(_CVS))
    return {
        "cv_text": f"{_CVS[k]} Beschikbaar vanaf week {rng.randint(1, 52)}.",
        "desired_occupations": [_OCCUPATIONS[k]],
        "skills": [],
        "languages": ["nl"],
        "hours_per_week_min": 16,
        "hours_per_week_max": 36,
        "postcode": "3011AB",
        "max_travel_km": 40,
        "active": True,
    }


@dataclass
class LoadResult:
    seconds: float
    clients: int
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    acked: dict[str, bool] = field(default_factory=dict)  # id -> present after the last ack
    verified_present: int = 0
    verify_failures: list[str] = field(default_factory=list)
    workers: set[str] = field(default_factory=set)

    @property
    def server_errors(self) -> int:
        return sum(n for code, n in self.statuses.items() if code >= 500)

    def summary(self) -> dict[str, Any]:
        def pct(values: list[float], q: float) -> float:
            if not values:
                return 0.0
            ordered = sorted(values)
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

        every = [v for vs in self.latencies_ms.values() for v in vs]
        return {
            "seconds": self.seconds,
            "clients": self.clients,
            "requests": self.requests,
            "requests_per_second": round(self.requests / self.seconds, 1) if self.seconds else 0,
            "statuses": dict(sorted(self.statuses.items())),
            "server_errors_5xx": self.server_errors,
            "transport_errors": self.transport_errors,
            "p50_ms": pct(every, 0.50),
            "p99_ms": pct(every, 0.99),
            "by_operation": {
                op: {"count": len(v), "p50_ms": pct(v, 0.5), "p99_ms": pct(v, 0.99)}
                for op, v in sorted(self.latencies_ms.items())
            },
            "workers_seen": len(self.workers),
            "writes_acknowledged_present": sum(self.acked.values()),
            "writes_found": self.verified_present,
            "deletes_acknowledged": sum(not v for v in self.acked.values()),
            "verify_failures": self.verify_failures[:10],
        }


class _Conn:
    """One keep-alive connection; reconnects after a transport error."""

    def __init__(self, base: str, timeout: float, key: str | None = None) -> None:
        parts = urlsplit(base)
        self.auth = {"Authorization": f"Bearer {key}"} if key else {}
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes, str]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        headers.update(self.auth)
        payload = json.dumps(body).encode() if body is not None else None
        try:
            self.conn.request(method, path, body=payload, headers=headers)
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise
        return resp.status, data, resp.getheader("x-werkmatch-worker", "?")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def run_load(
    base: str,
    *,
    seconds: float = 60,
    clients: int = 32,
    seed: int = 1,
    timeout: float = 60,
    key: str | None = None,
    requests_per_connection: int = 10,
) -> LoadResult:
    """Run the mixed load for ``seconds`` with ``clients`` threads, then verify the writes.

    Each client opens a new connection after ``requests_per_connection`` requests: the kernel
    hands each new connection to whichever worker accepts first, so connections kept for the
    whole run can all land on one worker and leave the others untested.

    Mix per client step: 25% create/update a candidate, 5% delete one of its own, 50% vacancy
    → candidates match, 15% candidate → vacancies match, 5% ad-hoc text match. ``key`` is an
    admin API key (or one that may write candidates, vacancies and read matches).
    """
    base = base.rstrip("/")
    result = LoadResult(seconds=seconds, clients=clients)
    lock = threading.Lock()
    setup = _Conn(base, timeout, key)
    status, body, _ = setup.request("PUT", "/v1/employers/load-emp/vacancies/load-v1", _VACANCY)
    if status not in (200, 201):
        raise RuntimeError(f"could not create the load vacancy: {status} {body[:200]!r}")
    setup.close()
    stop_at = time.monotonic() + seconds

    def client(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        conn = _Conn(base, timeout, key)
        mine: list[str] = []
        acked: dict[str, bool] = {}
        lat: dict[str, list[float]] = {}
        statuses: Counter[int] = Counter()
        workers: set[str] = set()
        transport = 0
        i = 0
        while time.monotonic() < stop_at:
            r = rng.random()
            if r < 0.25:
                cid = f"load-{seed}-{n}-{i}" if not mine or rng.random() < 0.7 else rng.choice(mine)
                op, method, path, body = "write", "PUT", f"/v1/candidates/{cid}", _candidate(rng)
            elif r < 0.30 and mine:
                cid = mine.pop(rng.randrange(len(mine)))
                op, method, path, body = "delete", "DELETE", f"/v1/candidates/{cid}", None
            elif r < 0.80:
                op, method = "match_vacancy", "GET"
                path, body = "/v1/employers/load-emp/vacancies/load-v1/matches?limit=20", None
            elif r < 0.95 and mine:
                cid = rng.choice(mine)
                op, method, path, body = (
                    "match_candidate",
                    "GET",
                    f"/v1/candidates/{cid}/matches",
                    None,
                )
            else:
                op, method, path = "match_text", "POST", "/v1/match"
                body = {"text": rng.choice(_CVS), "target": "candidates", "limit": 10}
            if i and i % requests_per_connection == 0:
                conn.close()
                conn = _Conn(base, timeout, key)
            started = time.perf_counter()
            try:
                status, _, worker = conn.request(method, path, body)
            except (OSError, http.client.HTTPException):
                transport += 1
                if op == "delete":  # may or may not have happened: no longer checkable
                    acked.pop(cid, None)
                continue
            finally:
                i += 1
            lat.setdefault(op, []).append((time.perf_counter() - started) * 1000)
            statuses[status] += 1
            workers.add(worker)
            if op == "write" and status in (200, 201):
                acked[cid] = True
                if cid not in mine:
                    mine.append(cid)
            elif op == "delete" and status == 204:
                acked[cid] = False
        conn.close()
        with lock:
            result.requests += sum(statuses.values()) + transport
            result.statuses.update(statuses)
            result.transport_errors += transport
            result.workers |= workers
            result.acked.update(acked)  # ids are per client, so no two clients race on one
            for op, values in lat.items():
                result.latencies_ms.setdefault(op, []).extend(values)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + timeout + 30)
    _verify(base, result, timeout, key)
    return result


def _verify(base: str, result: LoadResult, timeout: float, key: str | None) -> None:
    """Every acknowledged write is readable and matchable; every acknowledged delete is gone."""
    conn = _Conn(base, timeout, key)
    for cid, present in sorted(result.acked.items()):
        if present:
            status, body, _ = conn.request("GET", f"/v1/candidates/{cid}/matches?limit=1")
            if status == 200:
                result.verified_present += 1
            else:
                result.verify_failures.append(f"{cid}: {status} {body[:120]!r}")
        else:
            status, _, _ = conn.request("GET", f"/v1/candidates/{cid}")
            if status != 404:
                result.verify_failures.append(f"{cid}: deleted but answers {status}")
    conn.close()
