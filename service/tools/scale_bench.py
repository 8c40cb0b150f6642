"""``werkmatch bench``: national-scale figures on this machine, one JSON object per size.

Three parts, each in its own process so their memory does not mix:

1. in-process (one subprocess per size): build the index the settings would pick for that
   size from synthetic clustered unit vectors (:mod:`service.tools.synthetic`) plus filter columns
   for realistic candidates, then time top-k retrieval with and without hard filters and
   measure recall@20 against exact search (ground truth computed chunk by chunk);
2. HTTP (for the sizes in ``http_sizes``): a SQLite database filled with that many candidates
   (demo CV texts, synthetic vectors stored under the real model id, so nothing is embedded),
   the real ``werkmatch serve`` on it, and ``wrk`` (or a Python client when wrk is missing)
   against the matches endpoint and against a bare FastAPI endpoint returning a constant,
   served the same way in the same run: the framework's ceiling on this machine;
2b. memory and start-up (for the sizes in ``serve_sizes``): the real ``werkmatch serve`` on a
   SQLite database of that many candidates, started from the database (writing a snapshot) and
   then from the snapshot, its ready time and resident memory after authenticated queries;
3. ingest vs encode: the import path's embedding (token-window chunks, pooled) against plain
   ``SentenceTransformer.encode`` on the same texts (demo CVs).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI

RERANK_POOL = 100  # what the matcher retrieves for a top-20 answer
TOP = 20
FILTERED_PARAMS = "ladder_step_min=3&client_group=matchen&client_group=groeien&max_distance_km=25"

# IndexSpec field -> the setting the served app reads it from
ENV_NAMES = {
    "kind": "WERKMATCH_INDEX_KIND",
    "ivf_threshold": "WERKMATCH_IVF_THRESHOLD",
    "nlist": "WERKMATCH_IVF_NLIST",
    "nprobe": "WERKMATCH_IVF_NPROBE",
}

bare_app = FastAPI(title="bare ceiling")


@bare_app.get("/constant")
def constant() -> dict[str, str]:
    """The cheapest JSON endpoint FastAPI can serve: the framework's own ceiling."""
    return {"status": "ok"}


def _rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(values), q)), 3)


# ---------------------------------------------------------------- 1. in-process


def inprocess(
    size: int, queries: int, spec_json: str, with_snapshot: bool = False
) -> dict[str, Any]:
    """Build a synthetic collection of ``size`` candidates and time retrieval on it; with
    ``with_snapshot``, also write it with a demo fact store as a snapshot and time loading it
    in a fresh process (:func:`snapshot_roundtrip`)."""
    import faiss

    from matching.columns import FilterColumns
    from matching.index import IndexSpec, VectorIndex
    from matching.profiles import Side, VacancyFacts
    from matching.ranking import MatchFilters
    from service.tools.synthetic import SyntheticSpace, candidate_fields, random_places

    faiss.omp_set_num_threads(1)  # one query per request thread, as in the service
    spec = IndexSpec(**json.loads(spec_json))
    space = SyntheticSpace()
    rss_before = _rss_mb()
    started = time.perf_counter()
    index = VectorIndex.for_size(space.dim, size, spec)
    if index.kind == "ivf":
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # training may use every core
        index.train(space.sample(index.training_size(size), stream=1_000_000))
    for ids, vecs in space.chunks(size):
        index.upsert(ids, vecs)
    faiss.omp_set_num_threads(1)
    fields = candidate_fields(size, space.seed)
    columns = FilterColumns(capacity=size + 1)
    columns.load_candidate_arrays(
        np.arange(1, size + 1),
        focus_slugs=[f"focus-{i}" for i in range(23)],
        **fields,
    )
    del fields
    build_s = time.perf_counter() - started

    qvecs = space.sample(queries, stream=2_000_000)
    places = random_places(queries, space.seed)
    rng = np.random.default_rng(5)
    filters = MatchFilters(
        ladder_step_min=3, client_groups=("matchen", "groeien"), max_distance_km=25.0
    )

    def vacancy(i: int) -> VacancyFacts:
        return VacancyFacts(
            id=0,
            employer_id="bench",
            external_id=f"q{i}",
            title="",
            side=Side((), frozenset(), frozenset(), places[i]),
            skills=(),
            languages=(),
            hours=None,
            requires_driving_licence=bool(rng.random() < 0.3),
            kind="regular",
            status="open",
        )

    vacancies = [vacancy(i) for i in range(queries)]
    for q in qvecs[:5]:  # warm-up
        index.search(q, RERANK_POOL)
    plain_ms, filtered_ms, shares = [], [], []
    # CPU time of this thread as well: on a shared machine the wall time mostly measures the
    # other processes (at load 20 on 2 cores a query waits ten times as long as it computes)
    plain_cpu, filtered_cpu, plans = [], [], []
    masks: list[np.ndarray] = []
    for q, vac in zip(qvecs, vacancies, strict=True):
        t, c = time.perf_counter(), time.thread_time()
        index.search(q, RERANK_POOL)
        plain_ms.append((time.perf_counter() - t) * 1000)
        plain_cpu.append((time.thread_time() - c) * 1000)
        t, c = time.perf_counter(), time.thread_time()
        allowed = columns.candidate_allowed(vac.side, vac, filters)
        index.search(q, RERANK_POOL, allowed)
        filtered_ms.append((time.perf_counter() - t) * 1000)
        filtered_cpu.append((time.thread_time() - c) * 1000)
        shares.append(len(allowed) / size)
        plans.append(index.plan(len(allowed), len(index)))
        if len(masks) < 100:
            masks.append(allowed)
    rss_after = _rss_mb()

    # recall@20 against exact search over the same vectors, regenerated chunk by chunk
    n_eval = min(100, queries)
    qs = qvecs[:n_eval]
    best = np.full((n_eval, TOP), -np.inf, dtype=np.float32)
    best_ids = np.zeros((n_eval, TOP), dtype=np.int64)
    best_f = best.copy()
    best_f_ids = best_ids.copy()
    for ids, vecs in space.chunks(size):
        scores = qs @ vecs.T
        allowed = np.stack([np.isin(ids, m) for m in masks[:n_eval]])
        for tgt, tgt_ids, sc in (
            (best, best_ids, scores),
            (best_f, best_f_ids, np.where(allowed, scores, -np.inf)),
        ):
            merged = np.concatenate([tgt, sc], axis=1)
            merged_ids = np.concatenate([tgt_ids, np.broadcast_to(ids, sc.shape)], axis=1)
            top = np.argpartition(-merged, TOP - 1, axis=1)[:, :TOP]
            tgt[:] = np.take_along_axis(merged, top, axis=1)
            tgt_ids[:] = np.take_along_axis(merged_ids, top, axis=1)
    recall = []
    recall_f = []
    for i in range(n_eval):
        got = {h for h, _ in index.search(qs[i], TOP)}
        recall.append(len(got & set(best_ids[i].tolist())) / TOP)
        want_f = {int(x) for x, s in zip(best_f_ids[i], best_f[i], strict=True) if s > -np.inf}
        got_f = {h for h, _ in index.search(qs[i], TOP, masks[i])}
        recall_f.append(len(got_f & want_f) / max(1, len(want_f)))
    ranking = _ranking(index, columns, qvecs, places, filters)
    snapshot = snapshot_roundtrip(index, size) if with_snapshot else {}
    return {
        **snapshot,
        **ranking,
        "size": size,
        "index": index.kind,
        **({"nlist": index.nlist, "nprobe": index.nprobe} if index.kind == "ivf" else {}),
        "build_s": round(build_s, 2),
        "rss_mb": rss_after,
        "rss_before_build_mb": rss_before,
        "columns_mb": round(columns.nbytes() / 2**20, 1),
        "p50_ms": _percentile(plain_ms, 50),
        "p95_ms": _percentile(plain_ms, 95),
        "p99_ms": _percentile(plain_ms, 99),
        "p50_filtered_ms": _percentile(filtered_ms, 50),
        "p95_filtered_ms": _percentile(filtered_ms, 95),
        "p99_filtered_ms": _percentile(filtered_ms, 99),
        "p50_cpu_ms": _percentile(plain_cpu, 50),
        "p99_cpu_ms": _percentile(plain_cpu, 99),
        "p50_filtered_cpu_ms": _percentile(filtered_cpu, 50),
        "p99_filtered_cpu_ms": _percentile(filtered_cpu, 99),
        "filtered_exact_share": round(plans.count("exact") / len(plans), 3),
        "filtered_lists_share": round(plans.count("lists") / len(plans), 3),
        "load_avg": round(os.getloadavg()[0], 1),
        "filtered_share": round(statistics.mean(shares), 4),
        "recall_at_20": round(statistics.mean(recall), 4),
        "recall_at_20_filtered": round(statistics.mean(recall_f), 4),
        "queries": queries,
        "retrieved_per_query": RERANK_POOL,
    }


def _ranking(
    index: Any,
    columns: Any,
    qvecs: np.ndarray,
    places: list[Any],
    filters: Any,
) -> dict[str, Any]:
    """What the matcher spends on a whole top-20 answer, not only its search: filters,
    retrieval, the re-rank of the pool and the returned rows' facts and explanations
    (``Matcher.candidates_for`` for a demo vacancy), unfiltered and filtered, over ``index``
    with a fact store of as many rows (:func:`demo_store`, its filter columns the synthetic
    ``columns`` the search figures used). Wall and thread CPU time per answer, in ms."""
    from matching.matcher import Matcher
    from matching.ranking import MatchFilters, calibration_for
    from service.config import DEFAULT_MODEL
    from service.tools.demo_data import demo_vacancies
    from service.tools.synthetic import demo_focus, demo_store, demo_vacancy

    started = time.perf_counter()
    store = demo_store(len(index))
    store.filters = columns
    matcher = Matcher(index.dim, calibration=calibration_for(DEFAULT_MODEL))
    matcher.candidates.install(index, store)
    build_s = time.perf_counter() - started
    focus = demo_focus()
    templates = [v for v in demo_vacancies() if v["status"] == "open"]

    out: dict[str, Any] = {"ranking_store_build_s": round(build_s, 2)}
    vacancies = [
        demo_vacancy(templates[i % len(templates)], i, places[i], focus) for i in range(len(qvecs))
    ]
    for name, f in (("", MatchFilters()), ("_filtered", filters)):
        for q, vac in list(zip(qvecs, vacancies, strict=True))[:3]:  # warm-up
            matcher.candidates_for(q, vac.side, f, TOP, vacancy=vac)
        wall, cpu, returned = [], [], []
        for q, vac in zip(qvecs, vacancies, strict=True):
            t, c = time.perf_counter(), time.thread_time()
            found = matcher.candidates_for(q, vac.side, f, TOP, vacancy=vac)
            wall.append((time.perf_counter() - t) * 1000)
            cpu.append((time.thread_time() - c) * 1000)
            returned.append(len(found))
        out |= {
            f"ranking_p50{name}_ms": _percentile(wall, 50),
            f"ranking_p99{name}_ms": _percentile(wall, 99),
            f"ranking_p50{name}_cpu_ms": _percentile(cpu, 50),
            f"ranking_p99{name}_cpu_ms": _percentile(cpu, 99),
            f"ranking_returned{name}": round(statistics.mean(returned), 1),
        }
    matcher.candidates.clear()  # the store goes; the index stays the caller's
    return out


# ---------------------------------------------------------------- 1b. snapshot of a collection


def snapshot_load(path: str) -> dict[str, float]:
    """Load a snapshot the way a starting server does (arrays, fact store, FAISS index), in
    this process; seconds taken and resident memory before and after."""
    from matching.facts import FactStore
    from matching.index import VectorIndex
    from service.state import snapshot as snap

    before = _rss_mb()
    t = time.perf_counter()
    header, payload = snap.read_snapshot(Path(path), model_id="bench", dim=384, database="bench")
    read_s = time.perf_counter() - t
    index = VectorIndex.from_bytes(payload.pop("candidates.index"), 384)  # type: ignore[arg-type]  # a uint8 array; FAISS reads any buffer
    prefix = "candidates.store."
    arrays = {k[len(prefix) :]: payload.pop(k) for k in list(payload) if k.startswith(prefix)}
    store = FactStore.from_arrays("candidate", arrays)
    del arrays
    if len(store) != len(index) or len(store) != header.candidates:
        raise RuntimeError("snapshot load: counts disagree")
    return {
        "snapshot_read_s": round(read_s, 2),
        "snapshot_load_s": round(time.perf_counter() - t, 2),
        "snapshot_load_rss_mb": _rss_mb(),
        "snapshot_load_rss_before_mb": before,
        "snapshot_store_mb": round(store.nbytes() / 2**20, 1),
    }


def snapshot_roundtrip(index: Any, size: int) -> dict[str, Any]:
    """Write ``index`` and a demo fact store of ``size`` rows as a snapshot, and load it in a
    fresh process (:func:`snapshot_load`): start-up from a snapshot without the model."""
    from service.state import snapshot as snap
    from service.tools.synthetic import demo_store

    t = time.perf_counter()
    store = demo_store(size)
    store_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory(prefix="werkmatch-snap-") as d:
        path = Path(d) / "index.snap"
        payload = {f"candidates.store.{k}": v for k, v in store.to_arrays().items()}
        payload["candidates.index"] = np.frombuffer(index.to_bytes(), dtype=np.uint8)
        del store
        header = {"model_id": "bench", "dim": 384, "seq": 0, "database": "bench"}
        header |= {"candidates": size, "vacancies": 0}
        t = time.perf_counter()
        written = snap.write_snapshot(path, header, payload)
        write_s = time.perf_counter() - t
        del payload
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                "import json,sys; from service.tools.scale_bench import snapshot_load; "
                "print(json.dumps(snapshot_load(sys.argv[1])))",
                str(path),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return {
        "demo_store_build_s": round(store_s, 1),
        "snapshot_write_s": round(write_s, 2),
        "snapshot_file_mb": round(written / 2**20, 1),
        **json.loads(out.strip().splitlines()[-1]),
    }


# ---------------------------------------------------------------- 2. HTTP


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def populate(db_url: str, size: int) -> str:
    """A migrated database with ``size`` candidates (demo texts, synthetic vectors and fields:
    :func:`service.tools.synthetic.demo_candidate_rows`) and one open vacancy; returns the
    vacancy's matches URL path. Nothing is embedded."""
    from sqlmodel import Session

    from matching.embedder import model_id_for
    from matching.profiles import vacancy_embed_text
    from service.config import DEFAULT_MODEL
    from service.store.bulk_rows import insert_rows
    from service.store.db import make_engine, migrate
    from service.store.models import (
        Candidate,
        CandidateEmbedding,
        FocusOccupation,
        Vacancy,
        VacancyEmbedding,
        utcnow,
    )
    from service.tools.demo_data import focus_occupations
    from service.tools.synthetic import SyntheticSpace, demo_candidate_rows, embedding_row

    migrate(db_url)
    engine = make_engine(db_url)
    model_id = model_id_for(DEFAULT_MODEL)
    space = SyntheticSpace()
    now = utcnow()
    with Session(engine) as session:
        insert_rows(
            session,
            FocusOccupation,
            [
                {"slug": f["slug"], "name": f["name"], "synonyms": f["synonyms"]}
                | {"created_at": now, "updated_at": now}
                for f in focus_occupations()
            ],
        )
        for rows, embs in demo_candidate_rows(space, size, model_id, now):
            insert_rows(session, Candidate, rows)
            insert_rows(session, CandidateEmbedding, embs)
        title, description = "Heftruckchauffeur (m/v) 32 uur", "Laden en lossen met de heftruck."
        insert_rows(
            session,
            Vacancy,
            [
                {
                    "id": 1,
                    "employer_id": "bench",
                    "external_id": "heftruck-1",
                    "title": title,
                    "description": description,
                    "postcode": "2983AB",
                    "skills": [],
                    "languages": [],
                    "requires_driving_licence": False,
                    "kind": "regular",
                    "status": "open",
                    "created_at": now,
                    "updated_at": now,
                }
            ],
        )
        vector = space.sample(1, stream=3_000_000)[0]
        text = vacancy_embed_text(title, None, description, [])
        insert_rows(
            session, VacancyEmbedding, [embedding_row("vacancy_id", 1, model_id, text, vector, now)]
        )
        session.commit()
    engine.dispose()
    return "/v1/employers/bench/vacancies/heftruck-1/matches"


def create_bench_key(db_url: str) -> str:
    """An admin key in the benchmark's own database (the benchmark sends it with every request;
    it sees every candidate, as a director without a caseload would)."""
    from sqlmodel import Session

    from service.security.keys import create_key
    from service.store.db import make_engine

    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            _, token = create_key(session, "admin", label="werkmatch-bench", expires_in_days=1)
    finally:
        engine.dispose()
    return token


_WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_WRK_PCT = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_WRK_TOTAL = re.compile(r"(\d+) requests in ")
_WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
# wrk counts only statuses above 399 as errors; this script counts every status outside 2xx
# (3xx included) and prints the count last, so that no answer but a 2xx passes as a success.
_WRK_LUA = """
local counts = {}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("non2xx") end
  io.write(string.format("werkmatch-non-2xx: %d\\n", n))
end
"""


def _wrk_result(out: str) -> dict[str, Any]:
    """Figures from wrk's report (``--latency`` and the Lua script above)."""
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    pct = {int(p): float(v) * unit[u] for p, v, u in _WRK_PCT.findall(out)}
    rps, total = _WRK_RPS.search(out), _WRK_TOTAL.search(out)
    non2xx = [int(m) for m in re.findall(r"werkmatch-non-2xx: (\d+)", out)]
    non2xx += [int(m) for m in _WRK_NON_2XX.findall(out)]
    sockets = _WRK_SOCKET.search(out)
    if rps is None or total is None:
        raise RuntimeError(f"wrk printed no figures:\n{out}")
    return {
        "rps": float(rps.group(1)),
        "p50_ms": round(pct.get(50, float("nan")), 2),
        "p99_ms": round(pct.get(99, float("nan")), 2),
        "requests": int(total.group(1)),
        "non_2xx": max(non2xx, default=0),
        "socket_errors": sum(int(g) for g in sockets.groups()) if sockets else 0,
        "tool": "wrk",
    }


def _load(
    url: str, duration: float, connections: int, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """Requests/s, latency percentiles and the count of answers other than 2xx (and of failed
    connections) of ``url`` under a closed-loop load: wrk when installed, else a Python client
    (labelled ``"tool": "python"``: it measures the client as much as the server)."""
    wrk = shutil.which("wrk")
    if not wrk:
        return _python_load(url, duration, connections, headers)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_LUA)
    try:
        args = [wrk, "-t1", f"-c{connections}", f"-d{duration:.0f}s", "--latency"]
        for name, value in (headers or {}).items():
            args += ["-H", f"{name}: {value}"]
        out = subprocess.run(
            [*args, "-s", script.name, url], capture_output=True, text=True, check=True
        ).stdout
    finally:
        os.unlink(script.name)
    return _wrk_result(out)


def _python_load(
    url: str, duration: float, connections: int, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    import threading

    import httpx

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    failed = 0
    stop = time.monotonic() + duration
    lock = threading.Lock()

    def worker() -> None:
        nonlocal failed
        with httpx.Client(timeout=30, headers=headers) as c:
            while time.monotonic() < stop:
                t = time.perf_counter()
                try:
                    status = c.get(url).status_code
                except httpx.HTTPError:
                    with lock:
                        failed += 1
                    continue
                dt = (time.perf_counter() - t) * 1000
                with lock:
                    latencies.append(dt)
                    statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return {
        "rps": round(len(latencies) / duration, 1),
        "p50_ms": _percentile(latencies, 50) if latencies else float("nan"),
        "p99_ms": _percentile(latencies, 99) if latencies else float("nan"),
        "requests": len(latencies),
        "non_2xx": sum(n for code, n in statuses.items() if not 200 <= code < 300),
        "socket_errors": failed,
        "tool": "python",
    }


def _check_answer(url: str, headers: dict[str, str]) -> int:
    """One request before the load; returns its status. A 200 must hold ``TOP`` explained
    items with highlights, so the load measures real answers (not an empty list)."""
    import httpx

    r = httpx.get(url, headers=headers, timeout=60)
    if r.status_code != 200:
        return r.status_code
    items = r.json()["data"]
    if len(items) != TOP or not all(i["explanation"] for i in items):
        raise RuntimeError(f"{url} answered {len(items)} items, not {TOP} explained ones")
    if not any(i["highlights"] for i in items):
        raise RuntimeError(f"{url} answered no highlights")
    return r.status_code


def _failures(result: dict[str, Any]) -> int:
    return int(result["non_2xx"]) + int(result["socket_errors"])


@contextmanager
def _serving(
    db_url: str, workdir: Path, env: dict[str, str], name: str, ready_timeout: float
) -> Iterator[tuple[int, subprocess.Popen[bytes], float]]:
    """The real ``werkmatch serve`` on ``db_url`` with ``workdir`` as its data directory
    (snapshots on); yields its port, process and seconds until ``/readyz`` answered 200, and
    stops it on leaving. Its output goes to ``workdir/server-<name>.log``."""
    server_env = {**os.environ, **env, "WERKMATCH_DATABASE_URL": db_url}
    server_env |= {"WERKMATCH_DATA_DIR": str(workdir), "WERKMATCH_SNAPSHOTS": "true"}
    # The limiter runs (its cost is part of the request) but does not refuse the load.
    server_env["WERKMATCH_RATE_LIMIT_REQUESTS"] = "1000000"
    port = _free_port()
    with (workdir / f"server-{name}.log").open("wb") as log:
        t = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--port", str(port)],
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready_once(f"http://127.0.0.1:{port}/readyz", server, timeout=ready_timeout)
            yield port, server, time.perf_counter() - t
        finally:
            _stop(server, timeout=600)


def _stop(proc: subprocess.Popen[bytes], timeout: float) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _http_load(
    port: int, path: str, token: str, duration: float, connections: int, workdir: Path
) -> dict[str, Any]:
    """Load the served matches endpoint (unfiltered and filtered top-20, with the bench's key)
    and a bare FastAPI endpoint served by uvicorn the same way, one after the other, in this
    run; every answer other than 2xx is counted (``http_errors``)."""
    bare_port = _free_port()
    with (workdir / "bare.log").open("wb") as log:
        bare = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "service.tools.scale_bench:bare_app",
                "--port",
                str(bare_port),
                "--log-level",
                "warning",
                # as ``werkmatch serve`` runs uvicorn: one worker, no access log
                "--no-access-log",
                "--timeout-graceful-shutdown",
                "30",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready_once(f"http://127.0.0.1:{bare_port}/constant", bare, timeout=60)
            headers = {"Authorization": f"Bearer {token}"}
            base = f"http://127.0.0.1:{port}{path}"
            urls = {
                "bare": f"http://127.0.0.1:{bare_port}/constant",
                "unfiltered": f"{base}?limit={TOP}",
                "filtered": f"{base}?limit={TOP}&{FILTERED_PARAMS}",
            }
            checks = [_check_answer(urls[name], headers) for name in ("unfiltered", "filtered")]
            load_before = os.getloadavg()
            runs = {
                name: _load(url, duration, connections, None if name == "bare" else headers)
                for name, url in urls.items()
            }
            load_after = os.getloadavg()
        finally:
            _stop(bare, timeout=30)
    bare_rps = runs["bare"]["rps"]
    return {
        "http_rps": runs["unfiltered"]["rps"],
        "http_rps_filtered": runs["filtered"]["rps"],
        "http_rps_bare": bare_rps,
        "http_vs_bare": round(runs["unfiltered"]["rps"] / bare_rps, 4),
        "http_vs_bare_filtered": round(runs["filtered"]["rps"] / bare_rps, 4),
        "http_p50_ms": runs["unfiltered"]["p50_ms"],
        "http_p99_ms": runs["unfiltered"]["p99_ms"],
        "http_p50_filtered_ms": runs["filtered"]["p50_ms"],
        "http_p99_filtered_ms": runs["filtered"]["p99_ms"],
        "http_p50_bare_ms": runs["bare"]["p50_ms"],
        "http_p99_bare_ms": runs["bare"]["p99_ms"],
        "http_requests": {name: r["requests"] for name, r in runs.items()},
        "non_2xx": {name: r["non_2xx"] for name, r in runs.items()}
        | {"check": sum(c != 200 for c in checks)},
        "socket_errors": {name: r["socket_errors"] for name, r in runs.items()},
        "http_errors": sum(_failures(r) for r in runs.values()) + sum(c != 200 for c in checks),
        "http_load": f"{runs['bare']['tool']}, {connections} connections, "
        f"{duration:.0f} s per endpoint, top-{TOP} with explanations, highlights and audit",
        "http_load_average": [round(x, 2) for x in (*load_before, *load_after)],
    }


def http(size: int, duration: float, connections: int, env: dict[str, str]) -> dict[str, Any]:
    """Serve ``size`` candidates with the real app and load the matches endpoint over HTTP,
    with a key of its own, next to a bare FastAPI endpoint served by uvicorn the same way
    (:func:`_http_load`). Above :data:`SERVER_REBUILD_MAX` rows the server starts from a
    snapshot the benchmark wrote (:func:`build_snapshot`), as :func:`serve_from_snapshot` does."""
    workdir = Path(tempfile.mkdtemp(prefix="werkmatch-bench-"))
    try:
        db_url = f"sqlite:///{workdir / 'bench.db'}"
        t = time.perf_counter()
        path = populate(db_url, size)
        token = create_bench_key(db_url)
        result: dict[str, Any] = {"populate_s": round(time.perf_counter() - t, 1)}
        if size > SERVER_REBUILD_MAX:
            result["snapshot_built_in_bench_s"] = round(build_snapshot(db_url, workdir, env), 1)
        with _serving(db_url, workdir, env, "http", ready_timeout=3600) as (port, server, ready):
            loaded = _http_load(port, path, token, duration, connections, workdir)
            return (
                loaded
                | result
                | {
                    "server_rss_mb": _rss_mb(server.pid),
                    "server_ready_s": round(ready, 1),
                }
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# ---------------------------------------------------------------- 2b. memory and start-up


def _memory(pid: int) -> dict[str, float]:
    """Resident memory of ``pid`` in MB: total, anonymous (heap, arrays, FAISS) and file-backed
    (mapped libraries and model files), and the peak."""
    fields = {"VmRSS": "rss_mb", "RssAnon": "rss_anon_mb", "RssFile": "rss_file_mb"}
    fields |= {"VmHWM": "rss_peak_mb"}
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in fields:
            out[fields[key]] = round(int(rest.split()[0]) / 1024, 1)
    return out


def _wait_ready_once(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait until ``url`` answers 200, with at most one request in flight: ``/readyz``
    compares every id with the database, which takes seconds at a million rows, and polls that
    give up early would pile up in the server."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} was ready")
        try:
            if httpx.get(url, timeout=max(1.0, deadline - time.monotonic())).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout} s")


def _queries(url: str, token: str, n: int) -> dict[str, float]:
    """``n`` sequential filtered and unfiltered top-20 match requests; raises on any non-2xx."""
    import httpx

    times: list[float] = []
    with httpx.Client(timeout=120, headers={"Authorization": f"Bearer {token}"}) as c:
        for i in range(n):
            params = f"limit={TOP}" + (f"&{FILTERED_PARAMS}" if i % 2 else "")
            t = time.perf_counter()
            resp = c.get(f"{url}?{params}")
            times.append((time.perf_counter() - t) * 1000)
            if resp.status_code != 200:
                raise RuntimeError(f"match request answered {resp.status_code}: {resp.text[:200]}")
            if not resp.json()["data"]:
                raise RuntimeError("match request answered no matches")
    return {"p50_ms": _percentile(times, 50), "max_ms": round(max(times), 1)}


def _snapshot_breakdown(path: Path) -> dict[str, float]:
    """MB per group of arrays in a snapshot file (the FAISS index, term lists, vocabularies,
    ...), from its header: what the served process holds, as arrays, after loading it."""
    from service.state.snapshot import MAGIC

    with path.open("rb") as fh:
        fh.read(len(MAGIC))
        layout = json.loads(fh.readline())["arrays"]
    groups: dict[str, float] = {}
    for name, (dtype, shape, _) in layout.items():
        parts = name.split(".")
        group = ".".join(parts[:3] if parts[1:2] == ["store"] else parts[:2])
        nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        groups[group] = groups.get(group, 0.0) + nbytes / 2**20
    big = sorted(groups.items(), key=lambda kv: -kv[1])
    return {k: round(v, 1) for k, v in big if v >= 0.1}


def build_snapshot(db_url: str, data_dir: Path, env: dict[str, str]) -> float:
    """Write the snapshot the server would write after building its indexes from ``db_url``,
    in this process; returns the seconds taken.

    The server's own rebuild code (:meth:`service.state.index_state.IndexState.rebuild` and
    :meth:`~service.state.index_state.IndexState.write_snapshot`), with one shortcut: the text
    analysis of a row (:func:`matching.profiles.make_side`: content terms, focus hits) is
    computed once per distinct text, since the benchmark's rows repeat the demo CVs. Used for
    sizes whose full rebuild would take longer than the benchmark should (1M rows: the server
    then starts from this snapshot, and checks it against the database as at every start).
    """
    import dataclasses
    from functools import lru_cache

    from matching.embedder import model_id_for
    from matching.geo import default_locator
    from matching.index import IndexSpec
    from service.config import DEFAULT_MODEL, Settings
    from service.state import index_state
    from service.store.db import make_engine

    settings = Settings(data_dir=data_dir)
    kind = env.get(ENV_NAMES["kind"], "auto")
    if kind not in ("auto", "flat", "ivf"):
        raise ValueError(f"index kind {kind!r}")
    numbers = {k: int(env[v]) for k, v in ENV_NAMES.items() if k != "kind" and v in env}
    spec = IndexSpec(
        kind=kind,  # type: ignore[arg-type]  # checked against the index kinds above
        ivf_threshold=numbers.get("ivf_threshold", IndexSpec.ivf_threshold),
        nlist=numbers.get("nlist"),
        nprobe=numbers.get("nprobe"),
    )

    class _Model:  # what the rebuild reads of the encoder; nothing is embedded
        model_id = model_id_for(DEFAULT_MODEL)
        dim = 384

    state = index_state.IndexState(
        make_engine(db_url),
        _Model(),  # type: ignore[arg-type]  # a stand-in, not an Encoder: see _Model
        default_locator(),
        settings.focus_threshold,
        data_dir=data_dir,
        spec=spec,
    )
    make_side = index_state.make_side

    @lru_cache(maxsize=4096)
    def side_of(key: tuple[Any, ...], focus: Any) -> Any:
        occupations, skills, text, esco = key
        return make_side(
            occupations=occupations, skills=skills, text=text, location=None, focus=focus, esco=esco
        )

    def memoised(**kw: Any) -> Any:
        key = (tuple(kw["occupations"]), tuple(kw["skills"]), kw["text"], tuple(kw["esco"]))
        return dataclasses.replace(side_of(key, kw["focus"]), location=kw["location"])

    t = time.perf_counter()
    index_state.make_side = memoised
    try:
        state.rebuild()
    finally:
        index_state.make_side = make_side
    state.write_snapshot(force=True)
    state.engine.dispose()
    return time.perf_counter() - t


def serve_from_snapshot(
    size: int,
    env: dict[str, str],
    queries: int = 40,
    first_start: str = "server",
    load: tuple[float, int] | None = None,
) -> dict[str, Any]:
    """Memory and start-up of the real ``werkmatch serve`` with ``size`` candidates (SQLite).

    Populates a database (synthetic vectors under the real model id: nothing is embedded),
    starts the server, which builds its indexes from the database and writes a snapshot, asks
    it ``queries`` authenticated match questions and stops it; then starts it again, which loads
    the snapshot, and does the same. Reports ready time and resident memory of both starts
    (after the questions), and fails on any non-2xx answer. With ``first_start="bench"`` the
    snapshot is written by :func:`build_snapshot` instead and only the start from the snapshot
    is measured. With ``load=(seconds, connections)`` the start from the snapshot is also
    loaded over HTTP (:func:`_http_load`, its keys unprefixed) and its memory read again after.
    """
    import httpx

    workdir = Path(tempfile.mkdtemp(prefix="werkmatch-serve-"))
    try:
        db_url = f"sqlite:///{workdir / 'bench.db'}"
        t = time.perf_counter()
        path = populate(db_url, size)
        result: dict[str, Any] = {"size": size, "populate_s": round(time.perf_counter() - t, 1)}
        token = create_bench_key(db_url)
        starts = ["database", "snapshot"]
        if first_start == "bench":
            result["snapshot_built_in_bench_s"] = round(build_snapshot(db_url, workdir, env), 1)
            starts = ["snapshot"]
        for start in starts:
            with _serving(db_url, workdir, env, start, ready_timeout=3600) as (port, server, ready):
                state = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=120).json()
                if state.get("loaded_from") != start:
                    raise RuntimeError(f"expected a start from the {start}: {state}")
                if state.get("candidates_indexed") != size:
                    raise RuntimeError(f"{state.get('candidates_indexed')} of {size} indexed")
                at_ready = _memory(server.pid)
                q = _queries(f"http://127.0.0.1:{port}{path}", token, queries)
                mem = _memory(server.pid)
                if load is not None and start == "snapshot":
                    result |= _http_load(port, path, token, *load, workdir)
                    result |= {f"{k[:-3]}_after_http_mb": v for k, v in _memory(server.pid).items()}
            result |= {
                f"ready_from_{start}_s": round(ready, 1),
                f"rss_from_{start}_at_ready_mb": at_ready["rss_mb"],
                **{f"{k[:-3]}_from_{start}_mb": v for k, v in mem.items()},
                f"query_p50_from_{start}_ms": q["p50_ms"],
                f"query_max_from_{start}_ms": q["max_ms"],
            }
        snaps = list((workdir / "snapshots").glob("*.snap"))
        result["snapshot_mb"] = round(sum(p.stat().st_size for p in snaps) / 2**20, 1)
        result["snapshot_arrays_mb"] = _snapshot_breakdown(snaps[0]) if snaps else {}
        result["load_average"] = [round(x, 2) for x in os.getloadavg()]
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# ---------------------------------------------------------------- 3. ingest vs encode


def ingest_vs_encode(texts: list[str] | None = None, rounds: int = 2) -> dict[str, Any]:
    """Texts/s of the ingest embedding path relative to plain ``encode`` on the same texts
    (the bundled sentence-transformers model: what the chunking and the ONNX export apply to)."""
    from matching.embedder import BUNDLED_MODEL, SentenceTransformerEncoder, load_encoder
    from matching.profiles import candidate_embed_text
    from service.tools.demo_data import demo_candidates

    if texts is None:
        texts = [
            candidate_embed_text(c["cv_text"], c["desired_occupations"], c["skills"])
            for c in demo_candidates()
        ]
    enc = load_encoder(BUNDLED_MODEL, 32, 32)
    assert isinstance(enc, SentenceTransformerEncoder)
    model = enc._model

    def timed(fn: Callable[[], object]) -> float:
        best = float("inf")
        for _ in range(rounds):
            t = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t)
        return best

    enc.embed(texts[:16])  # warm-up
    ours = timed(lambda: enc.embed(texts))
    plain = timed(
        lambda: model.encode(
            texts, batch_size=enc.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
    )
    tokens = [len(model.tokenizer.tokenize(t)) for t in texts]
    # Plain encode truncates at the window; the ingest path embeds every window of the text.
    ingest_tokens = sum(n for t in texts for _, n in enc.chunk(t))
    encode_tokens = sum(min(n, enc.window) for n in tokens)
    result: dict[str, Any] = {
        "ingest_vs_encode": round(plain / ours, 3),
        "ingest_vs_encode_per_token": round((ingest_tokens / ours) / (encode_tokens / plain), 3),
        "ingest_tokens_vs_encode_tokens": round(ingest_tokens / encode_tokens, 3),
        "ingest_texts_per_s": round(len(texts) / ours, 1),
        "encode_texts_per_s": round(len(texts) / plain, 1),
        "ingest_texts": len(texts),
        "texts_over_window": sum(n > enc.window for n in tokens),
    }
    with tempfile.TemporaryDirectory() as cache:
        fast = load_encoder(BUNDLED_MODEL, 32, 32, "onnx-int8", cache)
        fast.embed(texts[:16])
        fast_s = timed(lambda: fast.embed(texts))
        cosines = (fast.embed(texts).vectors * enc.embed(texts).vectors).sum(axis=1)
    result |= {
        "ingest_onnx_int8_vs_encode": round(plain / fast_s, 3),
        "onnx_int8_vs_reference": round(ours / fast_s, 3),
        "onnx_int8_texts_per_s": round(len(texts) / fast_s, 1),
        "onnx_int8_mean_cosine": round(float(cosines.mean()), 4),
        "onnx_int8_min_cosine": round(float(cosines.min()), 4),
    }
    return result


# ---------------------------------------------------------------- driver


def run(
    sizes: list[int],
    http_sizes: list[int],
    queries: int,
    duration: float,
    connections: int,
    spec: dict[str, Any],
    with_ingest: bool,
    emit: Callable[[dict[str, Any]], None],
    serve_sizes: list[int] | None = None,
) -> int:
    """Measure every size and ``emit`` one result object per size; returns the number of HTTP
    answers other than 2xx (and failed connections) over every size: any is a failed run.
    Sizes in ``serve_sizes`` also get the memory and start-up of the real server,
    :func:`serve_from_snapshot` (which raises on any non-2xx answer), as ``serve_*`` keys; a
    serve size not in ``sizes`` gets an object of its own."""
    failures = 0
    common: dict[str, Any] = {"cpus": os.cpu_count()}
    if with_ingest:
        common |= ingest_vs_encode()
    env = {"HF_HUB_OFFLINE": "1"}
    env |= {ENV_NAMES[k]: str(v) for k, v in spec.items() if v is not None}
    for size in sizes:
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                "import json,sys; from service.tools.scale_bench import inprocess as f; "
                "print(json.dumps(f(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], True)))",
                str(size),
                str(queries),
                json.dumps({k: v for k, v in spec.items() if v is not None}),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        result = json.loads(out.strip().splitlines()[-1])
        serving = size in (serve_sizes or [])
        if size in http_sizes and serving:
            served = _serve(size, env, (duration, connections))
            failures += served["http_errors"]
            result |= {k: v for k, v in served.items() if k.startswith(HTTP_KEYS)}
            result |= _serve_keys(served)
        elif size in http_sizes:
            result |= http(size, duration, connections, env)
            failures += result["http_errors"]
        else:
            result |= {"http_rps": None, "http_rps_bare": None, "http_note": "not measured"}
        if serving and size not in http_sizes:
            result |= _serve_keys(_serve(size, env))
        emit(result | common)
    for size in serve_sizes or []:
        if size not in sizes:
            load = (duration, connections) if size in http_sizes else None
            served = _serve(size, env, load)
            failures += served.get("http_errors", 0)
            emit({"size": size} | _serve_keys(served) | common)
    return failures


# Above this size the benchmark writes the first snapshot itself (build_snapshot): the server's
# full rebuild of a million rows takes longer than a benchmark run should.
SERVER_REBUILD_MAX = 200_000


def _serve(size: int, env: dict[str, str], load: tuple[float, int] | None = None) -> dict[str, Any]:
    first = "server" if size <= SERVER_REBUILD_MAX else "bench"
    return serve_from_snapshot(size, env, first_start=first, load=load)


# what :func:`_http_load` adds to a served size's figures (kept unprefixed beside ``serve_*``)
HTTP_KEYS = ("http_", "non_2xx", "socket_errors")


def _serve_keys(result: dict[str, Any]) -> dict[str, Any]:
    return {
        f"serve_{k}": v for k, v in result.items() if k != "size" and not k.startswith(HTTP_KEYS)
    }
