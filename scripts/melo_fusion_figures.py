"""The fused occupation normaliser's group-level figures and threshold curves on MELO.

Prints JSON lines: per set and part, the ISCO-08 unit-group top-1 accuracy
(``matching.melo.isco_accuracy``; groups of the gold occupations from the bundled ESCO NL) of
the string normaliser, the encoder's nearest label (dense) and the fusion; then the top-1
precision / answered / recall at each threshold (``matching.melo.threshold_curve``) for the
string and the fused scores, on the nld tuning half (where the fused thresholds were chosen)
and test half (docs/evaluation.md, section 7).

Usage (the model from WERKMATCH_MODEL; vectors cached in var/vector-cache)::

    WERKMATCH_MODEL=multilingual-e5-small-q4 .venv/bin/python scripts/melo_fusion_figures.py \\
        ../shared/data/external/melo-nl/nld_q_nl_c_nl ../shared/data/external/melo-nl/bel_q_nl_c_nl
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from matching.embedder import load_encoder
from matching.esco import BUNDLED_ESCO_NL, read_esco
from matching.melo import (
    isco_accuracy,
    label_vectors,
    load_melo,
    threshold_curve,
    threshold_for_precision,
)
from matching.occupations import (
    FUSED_THRESHOLDS,
    STRING_THRESHOLDS,
    FusedNormalizer,
    OccupationNormalizer,
    fuse_scores,
)
from matching.vector_cache import CachedEncoder
from service.config import get_settings

THRESHOLDS = [round(0.4 + 0.025 * i, 3) for i in range(25)]


def main(folders: list[Path]) -> None:
    root = Path(os.environ.get("WERKMATCH_EVAL_CACHE", "var/vector-cache"))
    encoder = CachedEncoder(load_encoder(*get_settings().encoder_args()), root)
    isco = {r.uri: r.isco_code for r in read_esco(BUNDLED_ESCO_NL) if r.isco_code}
    for folder in folders:
        data = load_melo(folder)
        titles = [t for _, t in data.queries]
        normalizer = OccupationNormalizer(data.concepts)
        fused = FusedNormalizer(normalizer, encoder, label_vectors(data, encoder))
        string = normalizer.concept_scores(titles)
        dense = fused.dense_scores(titles)
        scores = {"string": string, "dense": dense, "fused": fuse_scores(string, dense)}
        for part in ("tuning", "test", None):
            row: dict[str, object] = {"set": data.name, "part": part or "all"}
            for name, s in scores.items():
                accuracy, counted = isco_accuracy(data, s, isco, part)
                row[name] = round(accuracy, 4)
                row["queries"] = counted
            print(json.dumps({"model": encoder.model_id, "isco4_top1": row}), flush=True)
        if data.name != "nld_q_nl_c_nl":
            continue
        for part in ("tuning", "test"):
            curves = {n: threshold_curve(data, scores[n], THRESHOLDS, part) for n in scores}
            for name in ("string", "fused"):
                print(json.dumps({"part": part, "scores": name, "curve": curves[name]}))
            for use in ("link", "suggest", "infer"):
                old = getattr(STRING_THRESHOLDS, use)
                at_old = next(p for p in curves["string"] if np.isclose(p["threshold"], old))
                chosen = threshold_for_precision(curves["fused"], at_old["precision"])
                print(
                    json.dumps(
                        {
                            "part": part,
                            "use": use,
                            "string_threshold": old,
                            "string_precision": round(at_old["precision"], 4),
                            "fused_threshold_reaching_it": chosen,
                            "configured": getattr(FUSED_THRESHOLDS, use),
                        }
                    )
                )


if __name__ == "__main__":
    main([Path(a) for a in sys.argv[1:]])
