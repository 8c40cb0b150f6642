"""The readiness probe of a running service's workers (``werkmatch check --url``)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def probe_workers(base: str, probes: int, expected: int | None) -> dict[str, Any]:
    """Ask /readyz up to ``probes`` times, a few connections at once (parallel connections are
    what spreads them over workers), until ``expected`` distinct workers answered. ``exit``: 0
    every answer 200 (and ``expected`` workers reached), 1 otherwise, 2 the service cannot be
    reached; ``lines``: the report for people; ``workers``: each worker's last answer."""

    def probe(_: int) -> tuple[int, dict[str, object]]:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    workers: dict[str, dict[str, object]] = {}
    failed = False
    sent = 0
    burst = max(2, expected or 2)
    with ThreadPoolExecutor(burst) as pool:
        while sent < probes and (expected is None or len(workers) < expected):
            n = min(burst, probes - sent)
            sent += n
            try:
                answers = list(pool.map(probe, range(n)))
            except (OSError, ValueError) as exc:
                return {"exit": 2, "lines": [f"cannot reach {base}: {exc}"], "workers": {}}
            for status, body in answers:
                workers[str(body.get("worker", "?"))] = body
                failed |= status != 200
    lines: list[str] = []
    for pid, body in sorted(workers.items()):
        chk = body.get("check") or {}
        assert isinstance(chk, dict)
        lines.append(
            f"worker {pid}: {body.get('status')}, seq {body.get('change_log_seq')}, "
            f"candidates {chk.get('candidate')}, vacancies {chk.get('vacancy')} "
            f"{'; '.join(chk.get('problems', []))}".rstrip()
        )
    if expected is not None:
        failed |= len(workers) < expected
        lines.append(f"reached {len(workers)} of {expected} workers in {sent} probes")
    lines.append("FAILED" if failed else "ok")
    return {"exit": 1 if failed else 0, "lines": lines, "workers": workers}
