"""API keys for tests: real keys, created in the test's own database."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from matching.embedder import Encoder
from service.api.app import create_app
from service.config import Settings
from service.security.keys import create_key
from service.store.db import make_engine


def make_token(db_url: str, role: str = "admin", **kw: object) -> str:
    """Create a key of ``role`` in the database at ``db_url`` and return its token."""
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            _, token = create_key(session, role, label=f"test-{role}", **kw)  # type: ignore[arg-type]
    finally:
        engine.dispose()
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api_client(
    settings: Settings, encoder: Encoder, role: str = "admin", **kw: object
) -> TestClient:
    """A TestClient for a fresh app whose requests carry a key of ``role`` (not yet started)."""
    token = make_token(settings.resolved_database_url(), role, **kw)
    return TestClient(create_app(settings, encoder), headers=bearer(token))
