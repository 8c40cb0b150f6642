"""`werkmatch bench`: argument checking and the in-process measurement on a small collection.

The figures themselves come from running the command (docs/scale.md); these tests only check
that it measures what it says (the right index, a sane recall, every key present).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from matching.synthetic import SyntheticSpace, candidate_fields
from service.cli import app
from service.scale_bench import inprocess

runner = CliRunner()

KEYS = {
    "size",
    "index",
    "build_s",
    "rss_mb",
    "p50_ms",
    "p99_ms",
    "p50_filtered_ms",
    "p99_filtered_ms",
    "recall_at_20",
    "recall_at_20_filtered",
}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sizes", "ten"], "comma-separated list of integers"),
        (["--sizes", "10"], "between 100 and 20,000,000"),
        (["--http-sizes", "1,2"], "between 100 and 20,000,000"),
        (["--index-kind", "hnsw"], "auto, flat or ivf"),
        (["--queries", "0"], "queries"),
        (["--nlist", "0"], "nlist"),
    ],
)
def test_bench_rejects_bad_arguments(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["bench", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_inprocess_flat_is_exact() -> None:
    result = inprocess(3000, 20, json.dumps({"kind": "flat"}))
    assert set(result) >= KEYS
    assert result["index"] == "flat" and result["size"] == 3000
    assert result["recall_at_20"] == 1.0 and result["recall_at_20_filtered"] == 1.0
    assert 0 < result["filtered_share"] < 1


def test_inprocess_ivf_reports_its_layout_and_recall() -> None:
    # nprobe = nlist scans every list: what is left is the 8-bit quantisation's error
    result = inprocess(5000, 30, json.dumps({"kind": "ivf", "nlist": 32, "nprobe": 32}))
    assert (result["index"], result["nlist"], result["nprobe"]) == ("ivf", 32, 32)
    assert 0.9 <= result["recall_at_20"] <= 1.0


def test_synthetic_data_is_deterministic_and_unit_length() -> None:
    space = SyntheticSpace(dim=16, centres=10)
    a = np.concatenate([v for _, v in space.chunks(250)])
    b = np.concatenate([v for _, v in space.chunks(250)])
    assert np.array_equal(a, b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    fields = candidate_fields(1000, seed=1)
    assert 0.85 < fields["active"].mean() < 0.95
    assert np.nanmax(fields["lat"]) < 54 and np.nanmin(fields["lat"]) > 50.5  # the Netherlands
