"""Dutch postcodes: validation, PC4 centroid lookup and great-circle distances.

Coordinates come from the bundled GeoNames PC4 file (``data/nl_pc4_geonames.csv``, CC BY 4.0,
see ``data/PROVENANCE.md``). A full postcode ("1234 AB") is located by its first four digits,
so distances are estimates at the level of a PC4 area (typically a few km across).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = [
    "DEFAULT_CSV",
    "POSTCODE_RE",
    "Place",
    "PostcodeLocator",
    "default_locator",
    "haversine_km",
    "normalize_postcode",
    "pc4",
]

DEFAULT_CSV = Path(__file__).parent / "data" / "nl_pc4_geonames.csv"

POSTCODE_RE = re.compile(r"([1-9][0-9]{3}) ?([A-Za-z]{2})?")
"""A Dutch postcode with optional letters: "1234AB", "1234 ab", "1234" (use ``fullmatch``)."""

# Never issued because of their Second World War connotations.
_UNISSUED_LETTERS = frozenset({"SA", "SD", "SS"})
EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
_REQUIRED_COLUMNS = ("postcode", "place", "municipality", "lat", "lon")


def normalize_postcode(value: str) -> str:
    """Normalise a Dutch postcode to "1234AB" (or "1234" when only digits are given).

    Accepts "1234AB", "1234 ab", "1234" with surrounding whitespace and at most one space
    between digits and letters. The first digit may not be 0, the letters must be A-Z, and the
    pairs "SA", "SD" and "SS" (never issued) are rejected.

    Raises:
        ValueError: the value is not such a postcode.
    """
    if not isinstance(value, str):
        raise ValueError(f"postcode must be a string, got {type(value).__name__}")
    match = POSTCODE_RE.fullmatch(value.strip())
    if match is None:
        raise ValueError(
            f"invalid Dutch postcode {value!r}: expected 4 digits (not starting with 0), "
            "optionally followed by 2 letters, e.g. '1234 AB' or '1234'"
        )
    digits, letters = match.group(1), (match.group(2) or "").upper()
    if letters in _UNISSUED_LETTERS:
        raise ValueError(f"invalid Dutch postcode {value!r}: letters {letters!r} are not issued")
    return digits + letters


def pc4(value: str) -> str:
    """The four digits of a postcode ("1234 ab" → "1234"); ValueError as ``normalize_postcode``."""
    return normalize_postcode(value)[:4]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two WGS 84 points (decimal degrees), on a sphere."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    # Rounding can push h a hair above 1 for antipodal points; asin would then fail.
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, max(0.0, h))))


def haversine_km_array(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    """:func:`haversine_km` on numpy arrays (broadcasting; NaN in, NaN out)."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dphi = phi2 - phi1
    dlambda = np.radians(lon2 - lon1)
    h = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlambda / 2) ** 2
    km: np.ndarray = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return km


@dataclass(frozen=True)
class Place:
    """A PC4 area: its four digits, first-listed place, municipality ("" if unknown), centroid."""

    postcode: str
    place: str
    municipality: str
    lat: float
    lon: float


class PostcodeLocator:
    """Looks up the centroid of a postcode's PC4 area."""

    def __init__(self, csv_path: Path | None = None) -> None:
        """Load a PC4 CSV (default: the bundled GeoNames file) into memory.

        The CSV needs a header with at least postcode, place, municipality, lat, lon; postcode
        is read as text. Later duplicate rows of a PC4 are ignored.

        Raises:
            OSError: the file cannot be read.
            ValueError: a required column is missing or a row is malformed.
        """
        self.csv_path = Path(csv_path) if csv_path is not None else DEFAULT_CSV
        self._places: dict[str, Place] = {}
        with self.csv_path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in _REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise ValueError(f"{self.csv_path}: missing column(s) {', '.join(missing)}")
            for line, row in enumerate(reader, start=2):
                code = (row["postcode"] or "").strip()
                if not re.fullmatch(r"[1-9][0-9]{3}", code):
                    raise ValueError(f"{self.csv_path}:{line}: bad PC4 {code!r}")
                try:
                    lat, lon = float(row["lat"]), float(row["lon"])
                except (TypeError, ValueError) as exc:
                    raise ValueError(f"{self.csv_path}:{line}: bad coordinates") from exc
                self._places.setdefault(
                    code,
                    Place(
                        postcode=code,
                        place=(row["place"] or "").strip(),
                        municipality=(row["municipality"] or "").strip(),
                        lat=lat,
                        lon=lon,
                    ),
                )

    def locate(self, postcode: str) -> Place | None:
        """The PC4 area of a postcode, or None when its PC4 is not in the file.

        Raises:
            ValueError: the postcode is malformed (see ``normalize_postcode``).
        """
        return self._places.get(pc4(postcode))

    def places(self) -> list[Place]:
        """Every PC4 area in the file."""
        return list(self._places.values())

    def __len__(self) -> int:
        return len(self._places)

    def __contains__(self, postcode: object) -> bool:
        if not isinstance(postcode, str):
            return False
        try:
            return pc4(postcode) in self._places
        except ValueError:
            return False


@lru_cache(maxsize=1)
def default_locator() -> PostcodeLocator:
    """The locator over the bundled CSV, loaded on first call and shared afterwards."""
    return PostcodeLocator()
