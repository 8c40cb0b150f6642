"""Converters that build CV ↔ vacancy evaluation sets (``../shared/data/EVAL-FORMAT.md``)
from the external data, each split into a ``tuning`` and a ``test`` folder.

- ``esco-nl`` (Dutch): per ESCO occupation (ESCO, European Commission,
  https://esco.ec.europa.eu) a candidate whose CV lists the occupation's alternative labels as
  work history, and a vacancy whose text is the occupation's description (no title, so the
  vacancy cannot be found by its name). Relevance: the same occupation 2, the same ISCO-08 unit
  group 1.
- ``hahu-en`` (English, **an LLM-made proxy**): per hahu posting (Tabiya / Hahu Jobs, CC BY
  4.0) a vacancy with its title and text, and a candidate whose CV is the posting's
  *LLM-generated* first-person ``synthetic_query`` sentence. Relevance: its own posting 2, a
  posting with the same ESCO code 1.

Both directions are queried (``vacancy`` and ``candidate``). Occupations / postings are split
into the two parts by a fixed hash of their id, so a part's candidates and vacancies never
leak into the other part.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from matching.esco import read_esco

__all__ = ["build_esco_nl", "build_hahu_en", "part_of"]

MAX_DESCRIPTION = 20_000
MAX_CV = 50_000


def part_of(key: str) -> str:
    """``tuning`` or ``test`` by a fixed hash of ``key``."""
    return "tuning" if hashlib.sha256(key.encode("utf-8")).digest()[0] % 2 == 0 else "test"


def _write(
    folder: Path,
    candidates: Sequence[dict[str, object]],
    vacancies: Sequence[dict[str, object]],
    qrels: Sequence[tuple[str, str, str, int]],
    readme: str,
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in (("candidates", candidates), ("vacancies", vacancies)):
        (folder / f"{name}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
    (folder / "qrels.tsv").write_text(
        "".join(f"{d}\t{q}\t{t}\t{r}\n" for d, q, t, r in qrels), encoding="utf-8"
    )
    (folder / "README.md").write_text(readme, encoding="utf-8")


def _qrels(ids: Sequence[str], group: dict[str, str | None]) -> list[tuple[str, str, str, int]]:
    """Both directions: own pair 2, same group 1 (ids are shared by the candidate and vacancy)."""
    by_group: dict[str, list[str]] = defaultdict(list)
    for i in ids:
        if group[i]:
            by_group[group[i]].append(i)  # type: ignore[index]
    out = []
    for direction, prefix_q, prefix_t in (("vacancy", "v-", "c-"), ("candidate", "c-", "v-")):
        for i in ids:
            out.append((direction, prefix_q + i, prefix_t + i, 2))
            for j in by_group.get(group[i] or "", []):
                if j != i:
                    out.append((direction, prefix_q + i, prefix_t + j, 1))
    return out


def build_esco_nl(esco: Path, out: Path, per_part: int = 300, seed: int = 13) -> dict[str, int]:
    """Write ``out/esco-nl-tuning`` and ``out/esco-nl-test``; returns the rows per part.

    Occupations with at least two alternative labels and a description qualify; ``per_part``
    of them (a seeded sample) go into each part.
    """
    parts: dict[str, list] = {"tuning": [], "test": []}
    for r in read_esco(esco):
        if len(r.alt_labels) >= 2 and r.description:
            parts[part_of(r.uri)].append(r)
    counts = {}
    for part, records in parts.items():
        rng = random.Random(f"{seed}-{part}")
        chosen = sorted(rng.sample(records, min(per_part, len(records))), key=lambda r: r.uri)
        ids = [hashlib.sha256(r.uri.encode()).hexdigest()[:12] for r in chosen]
        candidates, vacancies = [], []
        for i, r in zip(ids, chosen, strict=True):
            history = "\n".join(f"- {label}" for label in r.alt_labels[:5])
            candidates.append({"external_id": f"c-{i}", "cv_text": f"Werkervaring:\n{history}"})
            vacancies.append(
                {
                    "external_id": f"v-{i}",
                    "title": "",
                    "description": r.description[:MAX_DESCRIPTION],
                }
            )
        group = {i: r.isco_code for i, r in zip(ids, chosen, strict=True)}
        _write(
            out / f"esco-nl-{part}",
            candidates,
            vacancies,
            _qrels(ids, group),
            f"# esco-nl ({part})\n\nBuilt by `werkmatch eval-data esco-nl` from ESCO NL "
            "(ESCO, European Commission, https://esco.ec.europa.eu). Candidate CV: an "
            "occupation's alternative labels as work history; vacancy: its description. "
            "Relevance 2 = same occupation, 1 = same ISCO-08 unit group.\n",
        )
        counts[part] = len(chosen)
    return counts


def build_hahu_en(csv_path: Path, out: Path) -> dict[str, int]:
    """Write ``out/hahu-en-tuning`` and ``out/hahu-en-test`` (an LLM-made proxy set)."""
    with csv_path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    parts: dict[str, list[dict[str, str]]] = {"tuning": [], "test": []}
    for row in rows:
        if row.get("synthetic_query", "").strip() and row.get("description", "").strip():
            parts[part_of("hahu-" + row["ID"])].append(row)
    counts = {}
    for part, chosen in parts.items():
        ids = [f"h{row['ID']}" for row in chosen]
        candidates = [
            {"external_id": f"c-{i}", "cv_text": row["synthetic_query"].strip()[:MAX_CV]}
            for i, row in zip(ids, chosen, strict=True)
        ]
        vacancies = [
            {
                "external_id": f"v-{i}",
                "title": row["title"].strip()[:200],
                "description": row["description"].strip()[:MAX_DESCRIPTION],
            }
            for i, row in zip(ids, chosen, strict=True)
        ]
        group = {i: row["esco_code"].strip() or None for i, row in zip(ids, chosen, strict=True)}
        _write(
            out / f"hahu-en-{part}",
            candidates,
            vacancies,
            _qrels(ids, group),
            f"# hahu-en ({part}) — an LLM-made proxy\n\nBuilt by `werkmatch eval-data hahu-en` "
            "from the Hahu test set (Tabiya and Hahu Jobs, CC BY 4.0). The candidate CVs are "
            "the LLM-generated `synthetic_query` sentences, not real CVs. Relevance 2 = its own "
            "posting, 1 = a posting with the same ESCO code.\n",
        )
        counts[part] = len(chosen)
    return counts
