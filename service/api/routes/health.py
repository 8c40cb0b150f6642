"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from matching.embedder import encoder_loaded
from service.api.deps import StateDep
from service.errors import DATABASE_RETRY_AFTER
from service.observability import worker_id
from service.state.index_state import IndexNotReady
from service.store.db import ping

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(state: StateDep) -> JSONResponse:
    """Ready to answer: database reachable, indexes caught up and equal to the
    database (ids, counts, change-log sequence; ``check``). 503 with ``Retry-After`` otherwise.
    """
    detail: dict[str, object] = {
        "model": state.encoder.model_id,
        "model_loaded": encoder_loaded(state.encoder),
        "worker": worker_id(),
    }
    retry = {"Retry-After": str(DATABASE_RETRY_AFTER)}
    try:
        with Session(state.engine) as session:
            ping(session)
        report = state.index.compare()
    except IndexNotReady:
        detail.update(status="loading")
        return JSONResponse(detail, status_code=503, headers=retry)
    except DBAPIError as exc:  # any database failure means "not ready"
        detail.update(status="unavailable", database=type(exc.orig or exc).__name__)
        return JSONResponse(detail, status_code=503, headers=retry)
    m = state.index.matcher
    detail.update(
        status="ready" if report["ok"] else "drift",
        candidates_indexed=len(m.candidates),
        vacancies_indexed=len(m.vacancies),
        change_log_seq=state.index.last_seq,
        loaded_from=state.index.loaded_from,
        snapshot_seq=state.index.snapshot_seq,
        check=report,
    )
    return JSONResponse(detail, status_code=200 if report["ok"] else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format.",
            "content": {
                "text/plain": {
                    "example": 'werkmatch_index_size{kind="candidate"} 300.0\n',
                }
            },
        }
    },
)
def metrics(request: Request) -> Response:
    """Request counts and latency per route template, index sizes, embedding time."""
    data = generate_latest(request.app.state.metrics.registry)
    return Response(content=data, media_type=CONTENT_TYPE_LATEST)
