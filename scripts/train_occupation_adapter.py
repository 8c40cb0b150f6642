"""Train the occupation normaliser's adapter on ESCO and measure it on MELO (section 8 of
docs/evaluation.md).

Trains ``matching.occupation_adapter.train_adapter`` on pairs from the bundled ESCO NL v1.2.0
(ESCO, European Commission, https://esco.ec.europa.eu; © European Union): each occupation's
alternative and hidden labels against its preferred label, hard negatives from its ISCO-08
unit group. Every label equal (after ``normalize_title``) to a query of any MELO folder given
is left out (the count is printed). Vectors are the configured encoder's (WERKMATCH_MODEL),
cached in var/vector-cache.

For each training setting it prints one JSON line per fusion weight pair (a, f) with the MRR,
accuracy@1 and recall@10 on the nld **tuning** half (the only part used for a choice), then the
chosen setting's figures on every part of every folder, next to the fused normaliser without
adapter measured the same way. ``--save`` writes the chosen adapter and its fusion weights to
``matching/data/occupation-adapters/<model>.npy`` / ``.json``.

Usage::

    WERKMATCH_MODEL=multilingual-e5-small-q4 .venv/bin/python scripts/train_occupation_adapter.py \\
        ../shared/data/external/melo-nl/nld_q_nl_c_nl \\
        ../shared/data/external/melo-nl/bel_q_nl_c_nl \\
        [--save]

MELO: Retyk et al. (2024), arXiv:2410.08319; MIT, © 2024 Avature.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from matching.embedder import load_encoder
from matching.esco import BUNDLED_ESCO_NL, read_esco
from matching.melo import (
    MeloSet,
    evaluate,
    label_vectors,
    load_melo,
    threshold_curve,
    threshold_for_precision,
)
from matching.occupation_adapter import (
    OccupationAdapter,
    TrainingSettings,
    adapter_path,
    train_adapter,
    training_pairs,
)
from matching.occupations import (
    STRING_THRESHOLDS,
    FusedNormalizer,
    FusionWeights,
    OccupationNormalizer,
    fuse_scores,
    fusion_labels,
)
from matching.text import normalize_title
from matching.vector_cache import CachedEncoder
from service.config import get_settings

TUNING_SET = "nld_q_nl_c_nl"
DENSE = (0.5, 0.6, 0.7, 0.8)
FLOORS = (0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
GRID: dict[str, tuple[float, ...]] = {
    "temperature": (0.01, 0.02),
    "rank": (64, 128),
    "epochs": (2, 4),
}
THRESHOLDS = [round(0.4 + 0.025 * i, 3) for i in range(25)]


def nearest_label_cosine(
    data: MeloSet, labels: np.ndarray, queries: np.ndarray, adapter: OccupationAdapter | None
) -> np.ndarray:
    """(queries × concepts) float32: each concept's nearest label by cosine, adapted or not."""
    _, owner = fusion_labels(data.concepts)
    starts = np.searchsorted(owner, np.arange(len(data.concepts)))
    if adapter is not None:
        labels, queries = adapter.apply(labels), adapter.apply(queries)
    out = np.empty((len(queries), len(data.concepts)), dtype=np.float32)
    for s in range(0, len(queries), 256):
        out[s : s + 256] = np.maximum.reduceat(queries[s : s + 256] @ labels.T, starts, axis=1)
    return out


def figures(data: MeloSet, scores: np.ndarray) -> dict[str, object]:
    """Accuracy@1, MRR and recall@10 on all queries and per part."""
    result = evaluate(data, scores=scores)
    parts: dict[str, object] = {
        "all": {k: result[k] for k in ("queries", "accuracy@1", "mrr", "recall@10")}
    }
    parts.update(result["by_part"])  # type: ignore[call-overload]
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--save", action="store_true")
    parser.add_argument("--seed", type=int, default=TrainingSettings().seed)
    parser.add_argument(
        "--descriptions",
        action="store_true",
        help="add each occupation's ESCO description as one more anchor of its preferred label",
    )
    parser.add_argument(
        "--grid",
        type=json.loads,
        default=GRID,
        help='training settings to try, JSON: {"rank": [128, 256], "symmetric": [true]}',
    )
    args = parser.parse_args()
    grid: dict[str, list[object]] = {k: list(v) for k, v in args.grid.items()}
    unknown = set(grid) - set(asdict(TrainingSettings()))
    if unknown or not all(grid.values()):
        parser.error(f"--grid: unknown or empty settings {sorted(unknown) or grid}")
    root = Path(os.environ.get("WERKMATCH_EVAL_CACHE", "var/vector-cache"))
    encoder = CachedEncoder(load_encoder(*get_settings().encoder_args()), root)
    sets = [load_melo(f) for f in args.folders]
    if sets[0].name != TUNING_SET:
        parser.error(f"the first folder must be {TUNING_SET} (its tuning half chooses)")

    records = read_esco(BUNDLED_ESCO_NL)
    concepts = [
        (r.isco_code or "", (r.preferred_label, *r.alt_labels, *r.hidden_labels)) for r in records
    ]
    melo_titles = [t for data in sets for _, t in data.queries]
    descriptions = [r.description for r in records] if args.descriptions else None
    pairs = training_pairs(concepts, melo_titles, descriptions)
    if descriptions is not None:
        # a MELO title inside a description (as whole words) is not a leak of the answer
        # (the title's own concept is not what the description pairs with), but say how often
        words = [f" {normalize_title(d)} " for d in descriptions if d.strip()]
        inside = sum(
            any(f" {t} " in w for w in words)
            for t in {normalize_title(t) for t in melo_titles} - {""}
        )
        print(
            json.dumps(
                {
                    "description_anchors": pairs.descriptions,
                    "melo_titles_inside_a_description": inside,
                }
            ),
            flush=True,
        )
    print(
        json.dumps(
            {
                "esco_occupations": len(records),
                "concepts_with_target": len(pairs.targets),
                "anchors": len(pairs.anchors),
                "excluded_labels_equal_to_a_melo_title": pairs.excluded,
                "melo_titles": len(melo_titles),
            }
        ),
        flush=True,
    )
    anchor_vectors = encoder.embed(pairs.anchors).vectors
    target_vectors = encoder.embed(pairs.targets).vectors

    # frozen inputs of the evaluation: string scores and raw vectors, computed once
    inputs = []
    for data in sets:
        titles = [t for _, t in data.queries]
        string = OccupationNormalizer(data.concepts).concept_scores(titles)
        labels = label_vectors(data, encoder)
        queries = encoder.embed([FusedNormalizer.query_text(t) for t in titles]).vectors
        inputs.append((data, string, labels, queries))
    tuning_data, tuning_string, tuning_labels, tuning_queries = inputs[0]

    def tuning_grid(adapter: OccupationAdapter | None) -> list[dict[str, object]]:
        dense = nearest_label_cosine(tuning_data, tuning_labels, tuning_queries, adapter)
        rows: list[dict[str, object]] = []
        for a, f in itertools.product(DENSE, FLOORS):
            fused = fuse_scores(tuning_string, dense, FusionWeights(dense=a, dense_floor=f))
            tuning = figures(tuning_data, fused)["tuning"]
            rows.append({"dense": a, "dense_floor": f, **tuning})  # type: ignore[dict-item]
        return rows

    baseline = max(tuning_grid(None), key=lambda r: r["mrr"])  # type: ignore[arg-type,return-value]
    print(json.dumps({"adapter": None, "best_on_tuning": baseline}), flush=True)

    best: tuple[float, TrainingSettings, np.ndarray, dict[str, object], float] | None = None
    for values in itertools.product(*grid.values()):
        settings = replace(TrainingSettings(seed=args.seed), **dict(zip(grid, values, strict=True)))  # type: ignore[arg-type]
        started = time.perf_counter()
        weights = train_adapter(
            anchor_vectors, pairs.anchor_concept, target_vectors, pairs.target_group, settings
        )
        seconds = time.perf_counter() - started
        top = max(tuning_grid(OccupationAdapter(weights)), key=lambda r: r["mrr"])  # type: ignore[arg-type,return-value]
        print(
            json.dumps({"settings": asdict(settings), "seconds": round(seconds, 1), **top}),
            flush=True,
        )
        if best is None or float(top["mrr"]) > best[0]:  # type: ignore[arg-type]
            best = (float(top["mrr"]), settings, weights, top, seconds)  # type: ignore[arg-type]
    assert best is not None
    _, settings, weights, top, seconds = best
    adapter = OccupationAdapter(weights)
    chosen = FusionWeights(dense=float(top["dense"]), dense_floor=float(top["dense_floor"]))  # type: ignore[arg-type]
    for data, string, labels, queries in inputs:
        for name, adapted, fusion in (
            ("without adapter (a = 0.7, f = 0.85)", None, FusionWeights()),
            (f"with {adapter.adapter_id}", adapter, chosen),
        ):
            dense = nearest_label_cosine(data, labels, queries, adapted)
            print(
                json.dumps(
                    {
                        "set": data.name,
                        "fusion": name,
                        "dense": fusion.dense,
                        "dense_floor": fusion.dense_floor,
                        **figures(data, fuse_scores(string, dense, fusion)),
                    }
                ),
                flush=True,
            )
    # thresholds for the adapted scores, by the rule of the fused ones (docs/evaluation.md,
    # section 7): per use, the lowest score at which the top-1 is at least as precise on the
    # tuning half as the string top-1 at its threshold
    chosen_thresholds: dict[str, float | None] = {}
    adapted_scores = fuse_scores(
        tuning_string,
        nearest_label_cosine(tuning_data, tuning_labels, tuning_queries, adapter),
        chosen,
    )
    string_curve = threshold_curve(tuning_data, tuning_string, THRESHOLDS)
    adapted_curve = threshold_curve(tuning_data, adapted_scores, THRESHOLDS)
    for use in ("link", "suggest", "infer"):
        old = getattr(STRING_THRESHOLDS, use)
        at_old = next(p for p in string_curve if np.isclose(p["threshold"], old))
        chosen_thresholds[use] = threshold_for_precision(adapted_curve, at_old["precision"])
    print(json.dumps({"thresholds": chosen_thresholds, "curve": adapted_curve}), flush=True)
    if args.save:
        path = adapter_path(encoder.model_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, weights)
        meta = {
            "model": encoder.model_id,
            "adapter": adapter.adapter_id,
            "fusion": {"dense": chosen.dense, "dense_floor": chosen.dense_floor},
            "thresholds": chosen_thresholds,
            "training": asdict(settings),
            "training_seconds": round(seconds, 1),
            "pairs": len(pairs.anchors),
            "description_pairs": pairs.descriptions,
            "excluded_labels_equal_to_a_melo_title": pairs.excluded,
            "data": "ESCO NL v1.2.0 (matching/data/esco-nl), ESCO, European Commission, "
            "https://esco.ec.europa.eu (© European Union)",
            "command": f"WERKMATCH_MODEL={get_settings().model} "
            "scripts/train_occupation_adapter.py "
            + " ".join(f"../shared/data/external/melo-nl/{d.name}" for d in sets)
            + (" --descriptions" if args.descriptions else "")
            + (
                f" --grid '{json.dumps(grid)}'"
                if grid != {k: list(v) for k, v in GRID.items()}
                else ""
            )
            + f" --seed {args.seed} --save",
        }
        path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        print(json.dumps({"saved": str(path)}))


if __name__ == "__main__":
    main()
