"""The FastAPI application factory: ``create_app(settings)`` builds a fresh app."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import faiss
from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlmodel import Session

from matching.embedder import Encoder, open_encoder
from matching.geo import default_locator
from service.api import ui
from service.api.deps import AppState, request_rules
from service.api.error_handlers import install_error_handlers
from service.api.limits import BodySizeLimit
from service.api.openapi import install_openapi
from service.api.routes import (
    audit_log,
    candidates,
    cv_documents,
    focus,
    health,
    match,
    occupations,
    rematch,
    reports,
    vacancies,
)
from service.config import Settings, get_settings
from service.observability import (
    IndexCollector,
    Metrics,
    RequestObservability,
    TimedEncoder,
    worker_id,
)
from service.security.auth import AccessGate
from service.security.headers import SecurityHeaders
from service.security.rate_limit import make_limiter
from service.state.index_state import IndexState
from service.store import crud
from service.store.db import ensure_migrated, make_engine
from service.store.occupations import VECTOR_CACHE, OccupationIndex, fusion_adapter

log = logging.getLogger(__name__)

DESCRIPTION = """
Werkmatch couples job seekers (candidates) and employer vacancies for Dutch public employment
services. Every match comes with its score, the score's parts and plain-language reasons.

Every route but `/healthz`, `/readyz` and these docs needs an API key:
`Authorization: Bearer wm_...` (create one with `werkmatch keys create --role ...`).
A missing or invalid key answers 401, a role that may not use a route 403, another tenant's
object 404, too many requests for one key 429 (with `Retry-After`).

Errors are JSON: `{"error": code, "detail": ...}`; a 422 names the offending field.
Request bodies reject unknown fields, values of another JSON type than documented, and text
that contains the NUL character (U+0000).

Postcode coordinates: GeoNames (https://www.geonames.org), CC BY 4.0.
Occupations: ESCO, European Commission (https://esco.ec.europa.eu).
"""


def refresh_stale_vectors(state: AppState) -> None:
    """Embed rows that have no vector for the configured model (e.g. after a model change)."""
    with Session(state.engine) as session:
        for kind in (crud.CANDIDATES, crud.VACANCIES):
            ids = crud.stale_ids(session=session, kind=kind, model_id=state.encoder.model_id)
            if ids:
                log.info(
                    "re-embedding %d %s rows for model %s",
                    len(ids),
                    kind.name,
                    state.encoder.model_id,
                )
            batch = state.settings.embed_batch_size * 8
            for start in range(0, len(ids), batch):
                crud.reembed(
                    session=session,
                    kind=kind,
                    ids=ids[start : start + batch],
                    encoder=state.encoder,
                )


def build_state(settings: Settings, encoder: Encoder | None = None) -> AppState:
    """Connect, check the schema, load the model and build the indexes."""
    engine = make_engine(settings.resolved_database_url())
    ensure_migrated(engine)
    # Requests already run in parallel threads; FAISS's own OpenMP threads on top of them
    # oversubscribe the cores, and spinning OpenMP workers made a 20k-row query 5x slower.
    faiss.omp_set_num_threads(settings.faiss_threads)
    enc = encoder or open_encoder(settings.encoder_args(), settings.encoder_load)
    locator = default_locator()
    state = AppState(
        settings=settings,
        engine=engine,
        encoder=enc,
        locator=locator,
        occupations=OccupationIndex(
            enc,
            settings.data_dir / VECTOR_CACHE,
            fusion_adapter(settings.occupation_adapter, enc),
        )
        if settings.occupation_fusion
        else OccupationIndex(),
        index=IndexState(
            engine,
            enc,
            locator,
            settings.focus_threshold,
            data_dir=settings.data_dir if settings.snapshots else None,
            snapshot_every=settings.snapshot_every_changes,
            spec=settings.index_spec(),
        ),
    )
    state.index.faiss_threads = settings.faiss_threads
    state.limiter = make_limiter(
        settings.redis_url, settings.rate_limit_requests, settings.rate_limit_window_s
    )
    state.unauthenticated = make_limiter(
        settings.redis_url,
        settings.unauthenticated_limit,
        settings.unauthenticated_window_s,
    )
    refresh_stale_vectors(state)
    state.index.start()
    with Session(engine) as session:
        # build the ESCO normaliser now, not on the first write; its labels are embedded in
        # the background (requests get the string normaliser until then)
        state.occupations.get(session)
    return state


def create_app(settings: Settings | None = None, encoder: Encoder | None = None) -> FastAPI:
    """Build the app; heavy state is created in the lifespan, not here."""
    settings = settings or get_settings()

    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Each uvicorn worker runs this after it has been forked: the model, FAISS and their
        # threads start here, never in the parent process.
        enc = encoder or open_encoder(settings.encoder_args(), settings.encoder_load)
        log.info("worker %s is process %d", worker_id(), os.getpid())
        state = build_state(settings, TimedEncoder(enc, metrics))
        app.state.werkmatch = state
        try:
            yield
        finally:
            state.occupations.close()
            try:
                state.index.wait_for_snapshot()
                state.index.write_snapshot()
            except Exception:  # the database may be gone; the next start replays or rebuilds
                log.exception("snapshot at shutdown failed")
            state.engine.dispose()

    app = FastAPI(
        title="Werkmatch",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(request_rules)],
        # No redirect from '/path/' to '/path': Starlette built its Location from the Host
        # header, so any caller could make the service answer with a link to another host.
        redirect_slashes=False,
    )
    install_error_handlers(app)
    install_openapi(app)
    app.state.metrics = metrics
    metrics.watch(IndexCollector(lambda: getattr(app.state, "werkmatch", None)))
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        routes=[("PUT", cv_documents.PATH, settings.max_cv_document_bytes)],
    )
    # Outside the body limit: an anonymous caller gets 401 before any body is read.
    app.add_middleware(AccessGate)
    # Also names the worker (X-Werkmatch-Worker): one layer less per request.
    app.add_middleware(SecurityHeaders, cors_origins=settings.cors_origins)
    # Added last, so outermost: it sees every answer, also the 413s of BodySizeLimit.
    app.add_middleware(RequestObservability, metrics=metrics)
    for module in (
        health,
        candidates,
        cv_documents,
        vacancies,
        match,
        focus,
        occupations,
        reports,
        rematch,
        audit_log,
    ):
        app.include_router(module.router)
    app.include_router(ui.router)
    app.mount("/ui/static", StaticFiles(directory=ui.STATIC_DIR), name="ui-static")
    return app
