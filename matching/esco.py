"""Read the ESCO occupation taxonomy from its CSV export.

ESCO, European Commission, https://esco.ec.europa.eu (© European Union; reuse allowed with
acknowledgement). The export has ``occupations_<lang>.csv`` (``conceptUri``, ``iscoGroup``,
``preferredLabel``, newline-separated ``altLabels`` and ``hiddenLabels``, ``description``,
``code``, ...) and ``ISCOGroups_<lang>.csv`` (``conceptUri``, ``code``, ``preferredLabel``).
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

__all__ = ["BUNDLED_ESCO_NL", "EscoOccupationRecord", "read_esco"]

BUNDLED_ESCO_NL = Path(__file__).parent / "data" / "esco-nl"
"""ESCO v1.2.0 Dutch occupations and ISCO-08 groups, gzipped (see its PROVENANCE.md)."""

REQUIRED_COLUMNS = ("conceptUri", "preferredLabel")
MAX_LABEL = 300


@dataclass(frozen=True)
class EscoOccupationRecord:
    uri: str
    preferred_label: str
    alt_labels: tuple[str, ...]
    hidden_labels: tuple[str, ...]
    isco_code: str | None
    isco_label: str | None
    code: str | None
    description: str


def _labels(cell: str | None) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for line in (cell or "").splitlines():
        label = line.strip()[:MAX_LABEL]
        if label:
            seen.setdefault(label, None)
    return tuple(seen)


def _open_text(path: Path) -> TextIO:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        with _open_text(path) as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ValueError(f"{path.name}: missing column(s) {', '.join(missing)}")
            return list(reader)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path.name} is not UTF-8 text") from exc
    except (csv.Error, gzip.BadGzipFile, EOFError) as exc:
        raise ValueError(f"{path.name}: {exc}") from exc


def _find(folder: Path, stem: str) -> Path | None:
    for pattern in (f"{stem}_*.csv", f"{stem}.csv", f"{stem}_*.csv.gz", f"{stem}.csv.gz"):
        found = sorted(folder.glob(pattern))
        if found:
            return found[0]
    return None


def read_esco(path: Path) -> list[EscoOccupationRecord]:
    """Occupations from an ESCO CSV export: a folder with ``occupations_*.csv`` (and optionally
    ``ISCOGroups_*.csv`` for the group titles) or an occupations CSV file itself; each file may
    be gzipped (``.csv.gz``).

    Rows whose ``conceptType`` is given and is not "Occupation", or that have no URI or
    preferred label, are skipped.

    Raises:
        ValueError: no occupations file, a required column is missing, or the file is not
            UTF-8 CSV.
    """
    if path.is_dir():
        occupations = _find(path, "occupations")
        groups = _find(path, "ISCOGroups")
        if occupations is None:
            raise ValueError(f"{path} holds no occupations_*.csv")
    elif path.is_file():
        occupations, groups = path, _find(path.parent, "ISCOGroups")
    else:
        raise ValueError(f"no such file or folder: {path}")
    group_labels: dict[str, str] = {}
    if groups is not None:
        for row in _read_csv(groups):
            code = (row.get("code") or "").strip()
            if code:
                group_labels[code] = row["preferredLabel"].strip()
    records: dict[str, EscoOccupationRecord] = {}
    for row in _read_csv(occupations):
        kind = (row.get("conceptType") or "Occupation").strip()
        uri = (row.get("conceptUri") or "").strip()
        label = (row.get("preferredLabel") or "").strip()[:MAX_LABEL]
        if kind != "Occupation" or not uri or not label:
            continue
        isco = (row.get("iscoGroup") or "").strip() or None
        records[uri] = EscoOccupationRecord(
            uri=uri,
            preferred_label=label,
            alt_labels=tuple(x for x in _labels(row.get("altLabels")) if x != label),
            hidden_labels=_labels(row.get("hiddenLabels")),
            isco_code=isco,
            isco_label=group_labels.get(isco) if isco else None,
            code=(row.get("code") or "").strip() or None,
            description=(row.get("description") or "").strip(),
        )
    return list(records.values())
