"""The hybrid weights are configuration: loaded and checked from JSON."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from matching.ranking import (
    SIGNALS,
    UNCALIBRATED,
    WEIGHTS,
    WEIGHTS_FILE,
    Calibration,
    calibration_for,
    load_weights,
    model_key,
)


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


def test_calibration_per_model(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    top = {"semantic": 0.45, "lexical": 0.3, "occupation": 0.25}
    e5 = {"semantic": 0.6, "lexical": 0.15, "occupation": 0.25}
    path.write_text(
        json.dumps({"weights": top, "models": {"e5+query": {"weights": e5, "semantic_floor": 0.8}}})
    )
    cal = calibration_for("e5+query@abc", path)
    assert cal.weights == e5 and cal.semantic_floor == 0.8
    np.testing.assert_allclose(cal.semantic(np.array([0.7, 0.8, 0.9, 1.0])), [0, 0, 0.5, 1])
    fallback = calibration_for("minilm@abc", path)
    assert fallback.weights == top and fallback.semantic_floor == 0.0
    assert model_key("multilingual-e5-small-q4+query@0123") == "multilingual-e5-small-q4+query"


@pytest.mark.parametrize(
    "entry",
    [
        {"weights": {"semantic": 0.5, "lexical": 0.5}},
        {"weights": {"semantic": 0.5, "lexical": 0.3, "occupation": 0.3}},
        {"weights": {"semantic": 0.5, "lexical": 0.25, "occupation": 0.25}, "semantic_floor": 1},
        {"weights": {"semantic": 0.5, "lexical": 0.25, "occupation": 0.25}, "semantic_floor": -0.1},
    ],
)
def test_bad_calibrations_are_refused(tmp_path: Path, entry: dict) -> None:
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"weights": dict(WEIGHTS), "models": {"m": entry}}))
    with pytest.raises(ValueError):
        calibration_for("m@1", path)


def test_shipped_calibrations_are_valid() -> None:
    for key in json.loads(WEIGHTS_FILE.read_text()).get("models", {}):
        cal = calibration_for(key + "@x")
        assert sum(cal.weights.values()) == pytest.approx(1.0)


def test_a_calibration_is_a_value_that_leaves_the_file_weights_alone(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    e5 = {"semantic": 0.6, "lexical": 0.15, "occupation": 0.25}
    path.write_text(
        json.dumps(
            {"weights": dict(WEIGHTS), "models": {"e5": {"weights": e5, "semantic_floor": 0.5}}}
        )
    )
    before = dict(WEIGHTS)
    cal = calibration_for("e5@1", path)
    assert cal.weights == e5 and before == WEIGHTS
    np.testing.assert_allclose(cal.semantic(np.array([0.4, 0.75, 1.2])), [0, 0.5, 1])
    np.testing.assert_allclose(cal.semantic(cal.cosine(np.array([0.0, 0.3, 1.0]))), [0, 0.3, 1])
    assert cal.parts({"semantic": 0.5, "lexical": 1.0, "occupation": 0.0}) == {
        "semantic": 0.3,
        "lexical": 0.15,
        "occupation": 0.0,
    }
    other = calibration_for("other-model@1", path)  # no entry: the top-level weights, no floor
    assert other == Calibration(before, 0.0) == UNCALIBRATED
    np.testing.assert_allclose(other.semantic(np.array([-0.1, 0.75])), [0, 0.75])
    assert pickle.loads(pickle.dumps(cal)) == cal  # travels to rematch workers


def test_the_old_global_switch_is_gone() -> None:
    import matching.ranking as ranking

    assert not hasattr(ranking, "use_calibration") and not hasattr(ranking, "semantic_signal")
