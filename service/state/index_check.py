"""The check of the indexes a process would start with against the database
(``werkmatch check``): the snapshot on disk loaded, the change log replayed, then compared."""

from __future__ import annotations

from typing import Any

from matching.embedder import load_encoder
from matching.geo import default_locator
from service.config import Settings
from service.state.index_state import IndexState
from service.store.db import SchemaNotMigrated, ensure_migrated, make_engine


def check_snapshot(settings: Settings) -> dict[str, Any]:
    """Start the indexes as a worker would (the snapshot in ``settings.data_dir`` and the change
    log since, or a rebuild) without repairing or writing anything, and compare them with the
    database. ``exit``: 0 ok, 1 drift or an unusable snapshot, 2 cannot check (schema not
    migrated); ``lines``: the report for people; with the start's own record (``check``,
    ``loaded_from``, ``seconds``, ``snapshot_rejected``, ...)."""
    engine = make_engine(settings.resolved_database_url())
    try:
        ensure_migrated(engine)
    except SchemaNotMigrated as exc:
        return {"exit": 2, "lines": [str(exc)]}
    encoder = load_encoder(*settings.encoder_args())
    state = IndexState(
        engine,
        encoder,
        default_locator(),
        settings.focus_threshold,
        data_dir=settings.data_dir,
        spec=settings.index_spec(),
    )
    started = state.start(repair=False, write_snapshot=False)
    engine.dispose()
    chk = started["check"]
    lines = [
        f"loaded from {started['loaded_from']} in {started['seconds']} s"
        + (
            f" (snapshot not used: {started['snapshot_rejected']})"
            if started["snapshot_rejected"]
            else ""
        ),
        f"change-log seq: index {chk.get('seq')}, database {chk.get('db_seq')}",
    ]
    for name in ("candidate", "vacancy"):
        lines.append(f"{name}: {chk.get(name)}")
    lines += [f"DRIFT {p}" for p in chk["problems"]]
    # No snapshot yet is normal (the next start rebuilds); an unusable one is reported.
    rejected = started["snapshot_rejected"] not in (None, "no snapshot")
    bad = not chk["ok"] or rejected
    lines.append("FAILED" if bad else "ok")
    return {"exit": 1 if bad else 0, "lines": lines, **started}
