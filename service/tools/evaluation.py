"""``werkmatch eval``: rank a CV ↔ vacancy data set (``../shared/data/EVAL-FORMAT.md``) and
score the ranking.

The folder is loaded into a fresh temporary SQLite store through the same code path as the API
(validation and import by ``service.batch.importer``, embedding, ``IndexState`` with its facts and
FAISS vectors). Every query is then scored against *every* target with the ranking's own
signals (:func:`matching.rerank.score_pool`: semantic, lexical, occupation), so the modes
compare signals on exactly the same pairs:

- ``hybrid``: the weighted sum with the configured weights (or the weights given);
- ``dense``: the semantic signal (cosine of the vectors) alone;
- ``lexical``: the lexical signal alone.

Hard filters are applied as in the API (default filters, the same filter columns). Ties are
broken by external id.
"""

from __future__ import annotations

import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import Session

from matching.embedder import Encoder
from matching.geo import default_locator
from matching.metrics import mean, ndcg_at_k, recall_at_k, reciprocal_rank
from matching.ranking import SIGNALS, WEIGHTS, Calibration, MatchFilters, calibration_for
from matching.rerank import score_pool
from service.batch.importer import import_lines
from service.state.index_state import IndexState
from service.store import crud
from service.store.db import make_engine, migrate

__all__ = [
    "MODES",
    "SignalTable",
    "compare_modes",
    "compute_signals",
    "evaluate_signals",
    "fit_calibration",
    "fit_weights",
    "run_eval",
]

MODES = ("hybrid", "dense", "lexical")
DIRECTIONS = ("vacancy", "candidate")


@dataclass
class SignalTable:
    """Per direction and query: the targets that passed the filters and their raw signals."""

    # direction -> query id -> (target ids, targets x len(SIGNALS) signal matrix)
    rows: dict[str, dict[str, tuple[list[str], np.ndarray]]]
    qrels: dict[str, dict[str, dict[str, int]]]  # direction -> query -> target -> relevance
    skipped: dict[str, int]  # queries without a relevant target, or unknown ids
    seconds_loading: float


def read_qrels(path: Path) -> dict[str, dict[str, dict[str, int]]]:
    """``direction, query, target, relevance`` lines.

    Raises:
        ValueError: a line with the wrong number of columns, an unknown direction or a
            non-integer relevance.
    """
    qrels: dict[str, dict[str, dict[str, int]]] = {d: defaultdict(dict) for d in DIRECTIONS}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != 4:
            raise ValueError(f"qrels.tsv line {n}: expected 4 tab-separated columns")
        direction, query, target, rel = (c.strip() for c in cells)
        if direction not in DIRECTIONS:
            raise ValueError(f"qrels.tsv line {n}: direction must be 'vacancy' or 'candidate'")
        try:
            qrels[direction][query][target] = int(rel)
        except ValueError:
            raise ValueError(f"qrels.tsv line {n}: relevance must be an integer") from None
    return qrels


def _load(folder: Path, store: Path, encoder: Encoder) -> IndexState:
    url = f"sqlite:///{store}"
    migrate(url)
    engine = make_engine(url)
    with Session(engine) as session:
        for name, kind in (("candidates", crud.CANDIDATES), ("vacancies", crud.VACANCIES)):
            lines = (folder / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
            report = import_lines(
                session=session,
                kind=kind,
                lines=lines,
                encoder=encoder,
                default_employer="eval",
                batch_size=64,
            )
            if report.rejected:
                number, reason = report.rejected[0]
                raise ValueError(f"{name}.jsonl line {number}: {reason}")
    state = IndexState(engine, encoder, default_locator(), 0.85)
    state.rebuild()
    return state


def compute_signals(folder: Path, encoder: Encoder) -> SignalTable:
    """Load ``folder`` into a temporary store and score every query against every target.

    Raises:
        ValueError: a file is missing or a line is invalid.
    """
    missing = [
        f
        for f in ("candidates.jsonl", "vacancies.jsonl", "qrels.tsv")
        if not (folder / f).is_file()
    ]
    if missing:
        raise ValueError(f"{folder} is not an evaluation folder: missing {', '.join(missing)}")
    qrels = read_qrels(folder / "qrels.tsv")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="werkmatch-eval-") as tmp:
        state = _load(folder, Path(tmp) / "eval.db", encoder)
        loading = time.perf_counter() - started
        matcher = state.matcher
        cands = {f.external_id: f for f in matcher.candidates.facts.values()}
        vacs = {f.external_id: f for f in matcher.vacancies.facts.values()}
        cand_ids = sorted(cands)
        vac_ids = sorted(vacs)
        cand_vecs = {i: matcher.candidates.index.reconstruct(cands[i].id) for i in cand_ids}
        vac_vecs = {i: matcher.vacancies.index.reconstruct(vacs[i].id) for i in vac_ids}
        state.engine.dispose()
    filters = MatchFilters()
    rows: dict[str, dict[str, tuple[list[str], np.ndarray]]] = {d: {} for d in DIRECTIONS}
    skipped = dict.fromkeys(DIRECTIONS, 0)
    for direction in DIRECTIONS:
        for query, rels in qrels[direction].items():
            source = vacs if direction == "vacancy" else cands
            if query not in source or not any(r > 0 for r in rels.values()):
                skipped[direction] += 1
                continue
            q = source[query]
            q_vec = (vac_vecs if direction == "vacancy" else cand_vecs)[query]
            assert q_vec is not None, query  # every indexed row has its vector
            pool: Any
            pool_vecs: Any
            if direction == "vacancy":
                coll: Any = matcher.candidates
                mask = coll.columns.candidate_mask(q.side, q, filters)
                pool, pool_vecs, ids = cands, cand_vecs, cand_ids
            else:
                coll = matcher.vacancies
                mask = coll.columns.vacancy_mask(q.side, q, filters)
                pool, pool_vecs, ids = vacs, vac_vecs, vac_ids
            targets = [t for t in ids if mask[pool[t].id]]
            cosines = np.array([float(np.dot(q_vec, pool_vecs[t])) for t in targets])
            scored = score_pool(
                coll.store,
                q.side,
                np.array([pool[t].id for t in targets], np.int64),
                cosines,
                matcher.calibration,
            )
            signals = scored.signals.copy()
            # the raw cosine: the modes apply the model's calibration themselves
            signals[:, SIGNALS.index("semantic")] = np.clip(cosines, 0.0, 1.0)
            # rounded as the answers show them
            values = [[round(x, 4) for x in row] for row in signals.tolist()]
            rows[direction][query] = (targets, np.asarray(values, dtype=float).reshape(-1, 3))
    return SignalTable(rows, qrels, skipped, loading)


def _mode_weights(mode: str, weights: Mapping[str, float] | None) -> np.ndarray:
    if mode == "dense":
        chosen = {"semantic": 1.0}
    elif mode == "lexical":
        chosen = {"lexical": 1.0}
    elif mode == "occupation":
        chosen = {"occupation": 1.0}
    else:
        chosen = dict(weights or WEIGHTS)
    return np.array([chosen.get(k, 0.0) for k in SIGNALS])


def _metrics(values: dict[str, list[float]]) -> dict[str, float]:
    return {k: round(mean(v), 4) for k, v in values.items()}


def evaluate_signals(
    table: SignalTable,
    mode: str = "hybrid",
    weights: Mapping[str, float] | None = None,
    calibration: Calibration | None = None,
) -> dict[str, object]:
    """nDCG@10, recall@10, recall@50 and MRR per direction and over all queries.

    ``hybrid`` weighs the signals with ``weights``, else the calibration's, else the configured
    ones; the calibration's semantic rescaling applies to ``hybrid`` only (a single signal
    ranks the same either way, apart from ties the rescaling's floor would make).
    """
    if mode not in (*MODES, "occupation"):
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    if mode == "hybrid" and calibration is not None:
        w = _mode_weights(mode, weights or calibration.weights)
        table = _rescaled(table, calibration)
    else:
        w = _mode_weights(mode, weights)
    names = ("ndcg@10", "recall@10", "recall@50", "mrr")
    overall: dict[str, list[float]] = {n: [] for n in names}
    by_direction: dict[str, dict[str, float]] = {}
    for direction in DIRECTIONS:
        per: dict[str, list[float]] = {n: [] for n in names}
        for query, (targets, signals) in table.rows[direction].items():
            scores = signals @ w if len(targets) else np.zeros(0)
            # Targets are in id order, so a stable sort breaks ties by id.
            ranked = [targets[i] for i in np.argsort(-scores, kind="stable")]
            rel = table.qrels[direction][query]
            per["ndcg@10"].append(ndcg_at_k(ranked, rel, 10))
            per["recall@10"].append(recall_at_k(ranked, rel, 10))
            per["recall@50"].append(recall_at_k(ranked, rel, 50))
            per["mrr"].append(reciprocal_rank(ranked, rel))
        for n in names:
            overall[n].extend(per[n])
        by_direction[direction] = {"queries": len(per["mrr"]), **_metrics(per)}
    return {
        "mode": mode,
        "queries": {d: by_direction[d]["queries"] for d in DIRECTIONS},
        **_metrics(overall),
        "by_direction": by_direction,
        "skipped": table.skipped,
    }


def _idle_signals(tables: list[SignalTable]) -> list[str]:
    """The signals that are 0 on every pair of every table: they say nothing about a weight."""
    return [
        k
        for j, k in enumerate(SIGNALS)
        if not any(
            np.any(signals[:, j] != 0)
            for t in tables
            for rows in t.rows.values()
            for _, signals in rows.values()
            if len(signals)
        )
    ]


def fit_weights(tables: list[SignalTable], step: float = 0.05) -> tuple[dict[str, float], float]:
    """Weights with the best mean nDCG@10 over ``tables`` (each table weighs the same).

    A signal that is 0 on every pair of every table (e.g. occupation, when no data set has
    desired occupations) says nothing about its weight: it keeps its configured weight, and the
    other signals share the rest on a ``step`` grid. Returns the weights and that mean.
    """
    idle = _idle_signals(tables)
    free = [k for k in SIGNALS if k not in idle]
    fixed = {k: WEIGHTS[k] for k in idle}
    mass = 1.0 - sum(fixed.values())
    n = round(1 / step)
    best: tuple[float, dict[str, float]] = (-1.0, {})
    for split in _compositions(n, len(free)):
        weights = {**fixed, **{k: mass * p / n for k, p in zip(free, split, strict=True)}}
        value = mean(
            [float(evaluate_signals(t, "hybrid", weights)["ndcg@10"]) for t in tables]  # type: ignore[arg-type]  # evaluate_signals types its values object; this one is a float
        )
        if value > best[0] + 1e-9:
            best = (value, weights)
    return {k: round(best[1][k], 4) for k in SIGNALS}, round(best[0], 4)


def _rescaled(table: SignalTable, calibration: Calibration) -> SignalTable:
    if calibration.semantic_floor == 0.0:
        return table
    k = SIGNALS.index("semantic")
    rows: dict[str, dict[str, tuple[list[str], np.ndarray]]] = {}
    for direction, queries in table.rows.items():
        rows[direction] = {}
        for query, (targets, signals) in queries.items():
            signals = signals.copy()
            signals[:, k] = calibration.semantic(signals[:, k])
            rows[direction][query] = (targets, signals)
    return SignalTable(rows, table.qrels, table.skipped, table.seconds_loading)


FLOORS = (0.0, 0.3, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
SHORTFALL_PENALTY = 2.0
"""How much a tuning set's shortfall of the hybrid below its best single signal costs,
against the mean nDCG@10: the fit prefers a fusion that never loses to one that wins more
on average."""


def fit_calibration(
    tables: list[SignalTable], step: float = 0.05, floors: tuple[float, ...] = FLOORS
) -> tuple[Calibration, dict[str, float]]:
    """The semantic floor and weights that fuse best on ``tables`` (tuning parts only).

    For every floor in ``floors`` and every weight vector of :func:`fit_weights`' grid the
    objective is the mean hybrid nDCG@10 over the tables minus ``SHORTFALL_PENALTY`` times the
    mean shortfall below each table's best single signal (semantic, lexical or occupation
    alone). Returns the calibration and, for the record, its mean nDCG@10, mean shortfall and
    objective.
    """
    best_single = [
        max(float(evaluate_signals(t, m)["ndcg@10"]) for m in ("dense", "lexical", "occupation"))  # type: ignore[arg-type]  # evaluate_signals types its values object; a float
        for t in tables
    ]
    idle = _idle_signals(tables)
    # The evaluation sets state no occupations, so the occupation signal is (nearly) idle there
    # and its weight is kept, as in fit_weights; only the floor and the semantic/lexical split
    # are fitted.
    fixed = {k: WEIGHTS[k] for k in (*idle, "occupation")}
    free = [k for k in SIGNALS if k not in fixed]
    mass = 1.0 - sum(fixed.values())
    n = round(1 / step)
    best: tuple[float, Calibration, dict[str, float]] = (-np.inf, Calibration(dict(WEIGHTS)), {})
    for floor in floors:
        rescaled = [_rescaled(t, Calibration(dict(WEIGHTS), floor)) for t in tables]
        for split in _compositions(n, len(free)):
            weights = {**fixed, **{k: mass * p / n for k, p in zip(free, split, strict=True)}}
            values = [float(evaluate_signals(t, "hybrid", weights)["ndcg@10"]) for t in rescaled]  # type: ignore[arg-type]  # values typed object; ndcg@10 is a float
            shortfall = mean([max(0.0, b - v) for b, v in zip(best_single, values, strict=True)])
            objective = mean(values) - SHORTFALL_PENALTY * shortfall
            if objective > best[0] + 1e-9:
                record = {
                    "mean_ndcg@10": round(mean(values), 4),
                    "mean_shortfall": round(shortfall, 4),
                    "objective": round(objective, 4),
                }
                best = (objective, Calibration(weights, floor), record)
    calibration = Calibration(
        {k: round(best[1].weights[k], 4) for k in SIGNALS}, best[1].semantic_floor
    )
    return calibration, best[2]


def _compositions(n: int, parts: int) -> list[tuple[int, ...]]:
    """All tuples of ``parts`` non-negative integers adding up to ``n``."""
    if parts == 0:
        return [()] if n == 0 else []
    if parts == 1:
        return [(n,)]
    return [(i, *rest) for i in range(n + 1) for rest in _compositions(n - i, parts - 1)]


def run_eval(folder: Path, encoder: Encoder, mode: str = "hybrid") -> dict[str, object]:
    """The result object of ``werkmatch eval DIR --json`` (EVAL-FORMAT.md)."""
    started = time.perf_counter()
    table = compute_signals(folder, encoder)
    result = evaluate_signals(table, mode, calibration=calibration_for(encoder.model_id))
    return {"dataset": str(folder), **result, "seconds": round(time.perf_counter() - started, 2)}


def compare_modes(folder: Path, encoder: Encoder) -> dict[str, object]:
    """Every mode, and the occupation signal alone, on the same pairs (one load)."""
    started = time.perf_counter()
    table = compute_signals(folder, encoder)
    calibration = calibration_for(encoder.model_id)
    modes = {m: evaluate_signals(table, m, calibration=calibration) for m in (*MODES, "occupation")}
    return {
        "dataset": str(folder),
        "model": encoder.model_id,
        "weights": dict(calibration.weights),
        "semantic_floor": calibration.semantic_floor,
        "modes": {
            m: {k: r[k] for k in ("ndcg@10", "recall@10", "recall@50", "mrr", "queries")}
            for m, r in modes.items()
        },
        "seconds": round(time.perf_counter() - started, 2),
    }
