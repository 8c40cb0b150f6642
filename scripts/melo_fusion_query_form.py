"""Which text of a title the fused occupation normaliser embeds: the title as written or its
``normalize_title`` form. Compared on the MELO nld **tuning** half only (docs/evaluation.md,
section 7); bel is never used for this choice.

Usage (the model from WERKMATCH_MODEL; vectors cached in var/vector-cache)::

    WERKMATCH_MODEL=multilingual-e5-small-q4 .venv/bin/python scripts/melo_fusion_query_form.py \
        ../shared/data/external/melo-nl/nld_q_nl_c_nl
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from matching.embedder import load_encoder
from matching.melo import evaluate, label_vectors, load_melo
from matching.occupations import FusedNormalizer, OccupationNormalizer
from matching.vector_cache import CachedEncoder
from service.config import get_settings


class RawTitles(FusedNormalizer):
    @staticmethod
    def query_text(title: str) -> str:
        return title


def main(folder: Path) -> None:
    root = Path(os.environ.get("WERKMATCH_EVAL_CACHE", "var/vector-cache"))
    encoder = CachedEncoder(load_encoder(*get_settings().encoder_args()), root)
    data = load_melo(folder)
    titles = [t for _, t in data.queries]
    normalizer = OccupationNormalizer(data.concepts)
    vectors = label_vectors(data, encoder)
    for name, kind in (("as written", RawTitles), ("normalize_title", FusedNormalizer)):
        scores = kind(normalizer, encoder, vectors).concept_scores(titles)
        tuning = evaluate(data, scores=scores)["by_part"]["tuning"]  # type: ignore[index]
        print(json.dumps({"model": encoder.model_id, "query": name, "tuning": tuning}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
