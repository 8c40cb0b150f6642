"""The hybrid weights are configuration: loaded and checked from JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matching.ranking import SIGNALS, WEIGHTS, WEIGHTS_FILE, load_weights


def test_shipped_weights_are_valid() -> None:
    assert load_weights(WEIGHTS_FILE) == WEIGHTS
    assert set(WEIGHTS) == set(SIGNALS) and sum(WEIGHTS.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "weights",
    [
        {"semantic": 0.5, "lexical": 0.5},
        {"semantic": 0.5, "lexical": 0.6, "occupation": -0.1},
        {"semantic": 0.5, "lexical": 0.25, "occupation": 0.5},
    ],
)
def test_bad_weight_files_are_refused(tmp_path: Path, weights: dict) -> None:
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"weights": weights}))
    with pytest.raises(ValueError):
        load_weights(path)
