"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlmodel import Session

from service.deps import StateDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(state: StateDep) -> JSONResponse:
    """Ready to answer: database reachable, model loaded, indexes caught up."""
    detail: dict[str, object] = {"model": state.encoder.model_id}
    try:
        with Session(state.engine) as session:
            session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            state.index.catch_up(session)
    except Exception as exc:  # any database failure means "not ready"
        detail.update(status="unavailable", database=type(exc).__name__)
        return JSONResponse(detail, status_code=503, headers={"Retry-After": "5"})
    m = state.index.matcher
    detail.update(
        status="ready",
        candidates_indexed=len(m.candidates),
        vacancies_indexed=len(m.vacancies),
        change_log_seq=state.index.last_seq,
    )
    return JSONResponse(detail)


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
