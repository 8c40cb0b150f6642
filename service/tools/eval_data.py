"""Converters that build CV ↔ vacancy evaluation sets (``../shared/data/EVAL-FORMAT.md``)
from the external data, each split into a ``tuning`` and a ``test`` folder.

- ``esco-nl`` (Dutch): per ESCO occupation (ESCO, European Commission,
  https://esco.ec.europa.eu) a candidate whose CV lists the occupation's alternative labels as
  work history, and a vacancy titled "Vacature" whose text is the occupation's description (so the
  vacancy cannot be found by its name). Relevance: the same occupation 2, the same ISCO-08 unit
  group 1.
- ``hahu-en`` (English, **an LLM-made proxy**): per hahu posting (Tabiya / Hahu Jobs, CC BY
  4.0) a vacancy with its title and text, and a candidate whose CV is the posting's
  *LLM-generated* first-person ``synthetic_query`` sentence. Relevance: its own posting 2, a
  posting with the same ESCO code 1.

- ``esco-hard`` (``build_esco_hard``): three harder variants of esco-nl whose vacancies lose
  every sentence naming the occupation; CVs as a label list (``esco-nl-noname``), as Dutch prose
  (``esco-nl-prose``) and as English prose from the ESCO English skill profiles
  (``esco-en-nl``).

Both directions are queried (``vacancy`` and ``candidate``). Occupations / postings are split
into the two parts by a fixed hash of their id, so a part's candidates and vacancies never
leak into the other part.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

from matching.esco import EscoOccupationRecord, read_esco

__all__ = [
    "HARD_VARIANTS",
    "build_esco_hard",
    "build_esco_nl",
    "build_hahu_en",
    "part_of",
    "strip_names",
]

MAX_DESCRIPTION = 20_000
VACANCY_TITLE = "Vacature"
"""The title of every esco vacancy: a vacancy needs one, and the occupation's own name would
give the answer away; the same word on every vacancy ranks none above another."""
MAX_CV = 50_000


def part_of(key: str) -> str:
    """``tuning`` or ``test`` by a fixed hash of ``key``."""
    return "tuning" if hashlib.sha256(key.encode("utf-8")).digest()[0] % 2 == 0 else "test"


def _write(
    folder: Path,
    candidates: Sequence[Mapping[str, object]],
    vacancies: Sequence[Mapping[str, object]],
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
        if g := group[i]:
            by_group[g].append(i)
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
    parts: dict[str, list[EscoOccupationRecord]] = {"tuning": [], "test": []}
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
                    "title": VACANCY_TITLE,
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


HARD_VARIANTS = ("esco-nl-noname", "esco-nl-prose", "esco-en-nl")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _names(record: EscoOccupationRecord) -> list[str]:
    """Every label of the occupation, longest first, as lowercase strings of ≥ 3 characters."""
    labels = {x.strip().lower() for x in (record.preferred_label, *record.alt_labels,
                                           *record.hidden_labels)}  # fmt: skip
    return sorted((x for x in labels if len(x) >= 3), key=len, reverse=True)


def strip_names(description: str, names: Sequence[str]) -> str:
    """``description`` without the sentences that name the occupation (any of ``names``, as a
    word sequence, each word possibly inflected, ignoring case); "" when every sentence does."""
    # Each word may carry a short inflection ("medisch schrijvers" names "medisch schrijver").
    patterns = [
        re.compile(
            r"(?<!\w)" + r"\s+".join(re.escape(w) + r"\w{0,3}" for w in n.split()) + r"(?!\w)",
            re.IGNORECASE,
        )
        for n in names
    ]
    kept = [
        s
        for s in _SENTENCE.split(description.strip())
        if s.strip() and not any(p.search(s) for p in patterns)
    ]
    return " ".join(kept)


def _prose_nl(labels: Sequence[str]) -> str:
    first, *rest = labels
    text = f"Ik heb de afgelopen jaren gewerkt als {first.lower()}."
    if rest:
        text += (
            " Daarvoor werkte ik onder meer als " + " en ".join(x.lower() for x in rest[:2]) + "."
        )
    return text + " Ik ben betrouwbaar, leer snel en zoek een nieuwe baan in de regio."


def _prose_en(name: str, skills: Sequence[str]) -> str:
    text = f"I have worked as a {name.strip()} for several years."
    if skills:
        text += " My experience includes " + ", ".join(skills[:-1] or skills)
        text += f" and {skills[-1]}." if len(skills) > 1 else "."
    return text + " I am reliable, learn quickly and am looking for a new job."


def build_esco_hard(
    esco_nl: Path, esco_en_profiles: Path, out: Path, per_part: int = 150, seed: int = 17
) -> dict[str, dict[str, int]]:
    """Write the three harder variants of esco-nl, each with a tuning and a test part.

    All three share their vacancies: the occupation's Dutch ESCO description with every
    sentence that names the occupation (any of its labels) removed, so neither the words nor
    the title give the occupation away. The candidates differ:

    - ``esco-nl-noname``: the label list of esco-nl ("Werkervaring:" and up to five
      alternative labels);
    - ``esco-nl-prose``: Dutch free prose naming three alternative labels among filler
      sentences;
    - ``esco-en-nl``: English prose (ESCO's English preferred label and five essential skills
      from the English occupation–skill profiles) against the Dutch vacancies.

    Occupations qualify with ≥ 2 alternative labels, a description that keeps ≥ 2 sentences
    after the removal, and an English profile with ≥ 3 essential skills; ``per_part`` of them
    (seeded sample) per part, by the same hash split as esco-nl. Relevance as in esco-nl.
    """
    profiles: dict[str, dict[str, object]] = {}
    for line in esco_en_profiles.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            profiles[row["occupation_uri"]] = row
    parts: dict[str, list[tuple[EscoOccupationRecord, str]]] = {"tuning": [], "test": []}
    for r in read_esco(esco_nl):
        profile = profiles.get(r.uri)
        if len(r.alt_labels) < 2 or not r.description or profile is None:
            continue
        if len(profile.get("essential_skills") or []) < 3:  # type: ignore[arg-type]  # a profile's values are typed object; this one is a list
            continue
        text = strip_names(r.description, _names(r))
        if len(_SENTENCE.split(text)) < 2:
            continue
        parts[part_of(r.uri)].append((r, text))
    counts: dict[str, dict[str, int]] = {v: {} for v in HARD_VARIANTS}
    for part, records in parts.items():
        rng = random.Random(f"{seed}-{part}")
        chosen = sorted(rng.sample(records, min(per_part, len(records))), key=lambda x: x[0].uri)
        ids = [hashlib.sha256(r.uri.encode()).hexdigest()[:12] for r, _ in chosen]
        vacancies = [
            {"external_id": f"v-{i}", "title": VACANCY_TITLE, "description": text[:MAX_DESCRIPTION]}
            for i, (_, text) in zip(ids, chosen, strict=True)
        ]
        cvs: dict[str, list[str]] = {
            "esco-nl-noname": [
                "Werkervaring:\n" + "\n".join(f"- {x}" for x in r.alt_labels[:5]) for r, _ in chosen
            ],
            "esco-nl-prose": [_prose_nl(r.alt_labels[:3]) for r, _ in chosen],
            "esco-en-nl": [
                _prose_en(
                    str(profiles[r.uri]["occupation_name"]),
                    list(profiles[r.uri]["essential_skills"])[:5],  # type: ignore[call-overload]  # typed object; a list of skills
                )
                for r, _ in chosen
            ],
        }
        group = {i: r.isco_code for i, (r, _) in zip(ids, chosen, strict=True)}
        for variant in HARD_VARIANTS:
            candidates = [
                {"external_id": f"c-{i}", "cv_text": cv[:MAX_CV]}
                for i, cv in zip(ids, cvs[variant], strict=True)
            ]
            _write(
                out / f"{variant}-{part}",
                candidates,
                vacancies,
                _qrels(ids, group),
                f"# {variant} ({part})\n\nBuilt by `werkmatch eval-data {variant}` from ESCO NL "
                "and the ESCO English occupation–skill profiles (ESCO, European Commission, "
                "https://esco.ec.europa.eu). Vacancy: the Dutch description without the "
                "sentences naming the occupation. "
                + {
                    "esco-nl-noname": "Candidate CV: up to five alternative labels as a list.",
                    "esco-nl-prose": "Candidate CV: Dutch prose naming three alternative labels.",
                    "esco-en-nl": "Candidate CV: English prose, the English preferred label and "
                    "five essential skills.",
                }[variant]
                + " Relevance 2 = same occupation, 1 = same ISCO-08 unit group.\n",
            )
            counts[variant][part] = len(chosen)
    return counts
