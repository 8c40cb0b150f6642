"""Deterministic synthetic collections for benchmarks: clustered unit vectors, realistic filters.

Real sentence embeddings are not spread evenly over the sphere: they bunch around topics. The
vectors here are drawn around ``centres`` random topic directions with Gaussian noise, which
gives approximate indexes the same kind of structure to work with; uniformly random vectors
have none, and no inverted-file index does well on them (``uniform=True`` shows that).
Everything is generated in chunks from per-chunk seeds, so a million vectors can be produced
twice (for the index and for the exact ground truth) without being held in memory at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from matching.categories import CLIENT_GROUPS
from matching.geo import default_locator

CHUNK = 100_000
TRAVEL_KM = np.array([5.0, 10.0, 15.0, 25.0, 40.0, np.nan])
GROUP_WEIGHTS = np.array([0.35, 0.35, 0.2, 0.1])  # matchen, groeien, faciliteren, zorgen


@dataclass(frozen=True)
class SyntheticSpace:
    dim: int = 384
    centres: int = 1000
    noise: float = 0.6
    seed: int = 20261126
    uniform: bool = False

    def _centres(self) -> np.ndarray:
        c = np.random.default_rng(self.seed).standard_normal((self.centres, self.dim))
        unit: np.ndarray = (c / np.linalg.norm(c, axis=1, keepdims=True)).astype(np.float32)
        return unit

    def sample(self, n: int, stream: int) -> np.ndarray:
        """``n`` unit vectors from random stream ``stream`` (same stream, same vectors)."""
        rng = np.random.default_rng([self.seed, stream])
        noise = rng.standard_normal((n, self.dim), dtype=np.float32)
        if self.uniform:
            x = noise
        else:
            x = self._centres()[rng.integers(0, self.centres, n)]
            x += self.noise / np.sqrt(self.dim) * noise
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return x

    def chunks(self, n: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, vectors) for ids 1..n, ``CHUNK`` rows at a time."""
        for start in range(0, n, CHUNK):
            count = min(CHUNK, n - start)
            yield (
                np.arange(start + 1, start + count + 1, dtype=np.int64),
                self.sample(count, stream=start // CHUNK),
            )


def candidate_fields(n: int, seed: int, focus_slugs: int = 23) -> dict[str, np.ndarray]:
    """Filter columns for candidates 1..n, shaped like a municipal caseload.

    Locations are real PC4 centroids (GeoNames, CC BY 4.0), so distance filters select the
    share of people a real radius around a real place would.
    """
    rng = np.random.default_rng([seed, 7])
    places = default_locator().places()
    coords = np.array([(p.lat, p.lon) for p in places])
    where = coords[rng.integers(0, len(coords), n)]
    located = rng.random(n) < 0.95
    lat = np.where(located, where[:, 0], np.nan)
    lon = np.where(located, where[:, 1], np.nan)
    bits = np.zeros(n, dtype=np.uint64)
    for _ in range(2):  # up to two focus occupations each, none for about a third
        has = rng.random(n) < 0.45
        bit = rng.integers(0, focus_slugs, n).astype(np.uint64)
        bits |= np.where(has, np.uint64(1) << bit, np.uint64(0))
    return {
        "active": rng.random(n) < 0.9,
        "ladder": rng.integers(1, 7, n).astype(np.int8),
        "group": rng.choice(len(CLIENT_GROUPS), n, p=GROUP_WEIGHTS).astype(np.int8),
        "licence": rng.random(n) < 0.5,
        "max_travel_km": TRAVEL_KM[rng.integers(0, len(TRAVEL_KM), n)],
        "lat": lat,
        "lon": lon,
        "focus": bits,
    }


def random_places(n: int, seed: int) -> list[tuple[float, float]]:
    """``n`` real PC4 centroids, for query locations."""
    places = default_locator().places()
    rng = np.random.default_rng([seed, 11])
    return [(places[i].lat, places[i].lon) for i in rng.integers(0, len(places), n)]
