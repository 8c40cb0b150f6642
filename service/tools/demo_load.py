"""The demo data set into the database (``werkmatch demo``): the ESCO NL occupations, the focus
occupations, and the made-up candidates and vacancies of :mod:`service.tools.demo_data`; also
the set as JSON-lines files, and the shipped vectors of its texts."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from matching.embedder import Encoder
from service.config import Settings


class DemoRejected(Exception):
    """A demo row was refused by the import: the demo data and the validation disagree."""


@dataclass(frozen=True)
class DemoLoad:
    """What a load stored: ``counts`` (ESCO occupations, focus occupations, candidates,
    vacancies), and of the demo texts how many vectors came from the shipped file and how many
    were embedded."""

    counts: dict[str, object]
    vectors_shipped: int
    texts_embedded: int


def export_demo(folder: Path) -> list[tuple[str, int, Path]]:
    """Write candidates.jsonl and vacancies.jsonl of the demo set to ``folder`` (made if
    needed); (name, rows, file) of each."""
    from service.tools.demo_data import demo_candidates, demo_vacancies

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in (("candidates", demo_candidates()), ("vacancies", demo_vacancies())):
        target = folder / f"{name}.jsonl"
        target.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
        written.append((name, len(rows), target))
    return written


def load_demo(session: Session, model: Encoder, settings: Settings, vector_cache: Path) -> DemoLoad:
    """Load the ESCO NL occupations, the focus occupations and the demo rows (idempotent),
    the texts' vectors taken from the model's shipped file where it has them.

    Raises:
        DemoRejected: the import refused a demo row.
    """
    from matching.esco import BUNDLED_ESCO_NL, read_esco
    from matching.shipped_vectors import ShippedEncoder, shipped_path
    from service.batch.importer import import_lines
    from service.store import crud
    from service.store.crud import relink_all
    from service.store.models import FocusOccupationIn
    from service.store.occupations import import_occupations, ready_index
    from service.tools.demo_data import demo_candidates, demo_vacancies, focus_occupations

    result: dict[str, object] = {}
    encoder = ShippedEncoder(model, shipped_path(model.model_id))
    stored_before = crud.count_rows(session)
    # The taxonomy first, so that the demo rows get their ESCO links as they are written.
    esco = import_occupations(session, read_esco(BUNDLED_ESCO_NL))
    # Its normaliser is built once, for both imports, and is the string one: embedding the
    # 24,000 labels for the fusion (about 210 CPU s with e5) would not fit `make run`'s
    # 2 minutes. The service embeds them in the background and then answers fused;
    # `werkmatch occupations infer` re-reads the demo rows with the fusion.
    occupations = ready_index(session, None, vector_cache)
    result["esco_occupations"] = sum(esco.values())
    for f in focus_occupations():
        crud.upsert_focus(
            session=session,
            slug=f["slug"],
            data=FocusOccupationIn(name=f["name"], synonyms=f["synonyms"]),
        )
    result["focus_occupations"] = len(focus_occupations())
    for name, kind, rows in (
        ("candidates", crud.CANDIDATES, demo_candidates()),
        ("vacancies", crud.VACANCIES, demo_vacancies()),
    ):
        report = import_lines(
            session=session,
            kind=kind,
            lines=[json.dumps(r) for r in rows],
            encoder=encoder,
            batch_size=max(settings.embed_batch_size * 2, 16),
            occupations=occupations,
        )
        if report.rejected:
            raise DemoRejected(f"demo {name} rejected: {report.rejected[:3]}")
        result[name] = (
            report.summary()["created"]
            + report.summary()["updated"]
            + report.summary()["unchanged"]
        )
    if (esco["created"] or esco["updated"]) and stored_before:
        # rows stored before the taxonomy changed (unchanged by this run) are linked again;
        # rows this run wrote were linked with the new taxonomy already
        relink_all(session, occupations)
    return DemoLoad(result, encoder.reused, encoder.computed)


def write_demo_vectors(settings: Settings) -> dict[str, object]:
    """Embed the demo texts with the configured model and write the model's shipped vector
    file; the model id, how many texts, the file and the seconds it took."""
    from matching.embedder import load_encoder
    from matching.shipped_vectors import ShippedEncoder, shipped_path
    from service.tools.demo_data import demo_texts

    started = time.perf_counter()
    model = load_encoder(*settings.encoder_args())
    encoder = ShippedEncoder(model, shipped_path(model.model_id), read=False)
    texts = demo_texts()
    step = settings.embed_batch_size
    for i in range(0, len(texts), step):
        encoder.embed(texts[i : i + step])
    path = encoder.write()
    return {
        "model": model.model_id,
        "texts": len(texts),
        "path": str(path),
        "seconds": round(time.perf_counter() - started, 1),
    }
