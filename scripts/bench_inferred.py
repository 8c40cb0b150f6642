"""Occupations read from the demo CVs: how many, how they relate to the stated ones, how fast.

    .venv/bin/python scripts/bench_inferred.py

Over the bundled ESCO NL taxonomy and the made-up demo candidates (``service.tools.demo_data``),
prints one JSON object: CVs read, occupations stored (score >= ``INFER_MIN_SCORE``) per
reader (title, phrase, cue), how many share the ISCO-08 minor group (3 digits) of one of the
candidate's stated occupations (a rough agreement figure: a CV also names earlier jobs, which
are rightly read and differ), CVs with none, and the time per CV (CPU seconds, as wall time on
a shared machine follows its load), for the sparse ``best_concepts`` and for the dense
``concept_scores`` it replaces.
"""

from __future__ import annotations

import json
import time
from collections import Counter

from matching.cv_suggestions import INFER_MIN_SCORE, _phrases, _title_segments, infer_occupations
from matching.esco import BUNDLED_ESCO_NL, read_esco
from matching.occupations import OccupationConcept, OccupationNormalizer
from service.tools.demo_data import demo_candidates


def main() -> None:
    normalizer = OccupationNormalizer(
        [
            OccupationConcept(
                uri=r.uri,
                preferred_label=r.preferred_label,
                labels=(r.preferred_label, *r.alt_labels, *r.hidden_labels),
                isco_code=r.isco_code,
            )
            for r in read_esco(BUNDLED_ESCO_NL)
        ]
    )
    rows = demo_candidates()
    started = time.process_time()
    found = [infer_occupations(r["cv_text"], normalizer, min_score=INFER_MIN_SCORE) for r in rows]
    sparse_ms = 1000 * (time.process_time() - started) / len(rows)
    started = time.process_time()
    for r in rows:  # the dense ranking of the same proposals, for comparison
        normalizer.concept_scores(
            [p[2] for p in [*_phrases(r["cv_text"]), *_title_segments(r["cv_text"])]]
        )
    dense_ms = 1000 * (time.process_time() - started) / len(rows)
    via: Counter[str] = Counter()
    agree = 0
    for row, occupations in zip(rows, found, strict=True):
        stated = set()
        for title in row.get("desired_occupations", []):
            hits = normalizer.normalize(title, 1)
            if hits and hits[0].score >= 0.6 and hits[0].isco_code:
                stated.add(hits[0].isco_code[:3])
        for o in occupations:
            via[o.via] += 1
            agree += (o.isco_code or "")[:3] in stated
    total = sum(via.values())
    print(
        json.dumps(
            {
                "cvs": len(rows),
                "inferred": total,
                "by_via": dict(via),
                "same_isco_minor_group_as_stated": agree,
                "cvs_without": sum(not f for f in found),
                "cpu_ms_per_cv_sparse": round(sparse_ms, 1),
                "cpu_ms_per_cv_dense_normalisation_only": round(dense_ms, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
