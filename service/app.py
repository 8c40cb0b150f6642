"""The FastAPI application factory: ``create_app(settings)`` builds a fresh app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlmodel import Session

from matching.embedder import Encoder, load_encoder
from matching.geo import default_locator
from service import crud
from service.config import Settings, get_settings
from service.db import ensure_migrated, make_engine
from service.deps import AppState
from service.errors import install_error_handlers
from service.index_state import IndexState
from service.limits import BodySizeLimit
from service.routes import candidates, focus, health, match, rematch, vacancies

log = logging.getLogger(__name__)

DESCRIPTION = """
Werkmatch couples job seekers (candidates) and employer vacancies for Dutch public employment
services. Every match comes with its score, the score's parts and plain-language reasons.

Errors are JSON: `{"error": code, "detail": ...}`; a 422 names the offending field.
Request bodies reject unknown fields.

Postcode coordinates: GeoNames (https://www.geonames.org), CC BY 4.0.
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
    enc = encoder or load_encoder(
        settings.model, settings.embed_batch_size, settings.chunk_overlap_tokens
    )
    locator = default_locator()
    state = AppState(
        settings=settings,
        engine=engine,
        encoder=enc,
        locator=locator,
        index=IndexState(engine, enc, locator, settings.focus_threshold),
    )
    refresh_stale_vectors(state)
    state.index.rebuild()
    return state


def create_app(settings: Settings | None = None, encoder: Encoder | None = None) -> FastAPI:
    """Build the app; heavy state is created in the lifespan, not here."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = build_state(settings, encoder)
        app.state.werkmatch = state
        try:
            yield
        finally:
            state.engine.dispose()

    app = FastAPI(
        title="Werkmatch",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    for module in (health, candidates, vacancies, match, focus, rematch):
        app.include_router(module.router)
    return app
