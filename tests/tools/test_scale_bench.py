"""`werkmatch bench`: argument checking, the in-process measurement on a small collection, and
the HTTP part's counting of every answer that is not a 2xx (the command fails on one).

The figures themselves come from running the command (docs/scale.md); these tests only check
that it measures what it says (the right index, a sane recall, every key present).
"""

from __future__ import annotations

import json
import shutil
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from matching.embedder import Encoder
from service.cli import app
from service.config import Settings
from service.tools import scale_bench
from service.tools.scale_bench import inprocess
from service.tools.synthetic import SyntheticSpace, candidate_fields
from tests.auth import bearer, make_token
from tests.live_server import LiveServer

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
    # the whole answer's ranking is timed too: full top-20 answers, each at least its search
    assert result["ranking_returned"] == 20 and result["ranking_returned_filtered"] > 0
    for kind in ("", "_filtered"):
        assert result[f"ranking_p99{kind}_ms"] >= result[f"ranking_p50{kind}_ms"] > 0
        assert result[f"ranking_p50{kind}_cpu_ms"] > 0


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


# ---------------------------------------------------------------- HTTP: every answer counted


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_load_counts_every_answer_that_is_not_2xx(settings: Settings, encoder: Encoder) -> None:
    """Both load clients report refusals as failures, and a clean run as none."""
    # The key's budget is not what is measured here, as on the bench's own server: on an idle
    # machine the two one-second runs make more requests than the default 1,200 a minute.
    settings = settings.model_copy(update={"rate_limit_requests": 1_000_000})
    good = bearer(make_token(settings.resolved_database_url(), "admin"))
    bad = bearer("wm_aaaaaaaaaaaa_" + "A" * 43)  # well-formed, unknown: 401, then 429
    with LiveServer(settings, encoder) as live:
        url = f"{live.base}/v1/focus-occupations"
        loads = [scale_bench._python_load]
        if shutil.which("wrk"):
            loads.append(scale_bench._load)
        for load in loads:
            refused = load(url, 1, 2, bad)
            assert refused["requests"] > 0
            assert refused["non_2xx"] == refused["requests"], refused
            served = load(url, 1, 2, good)
            assert served["requests"] > 0 and served["non_2xx"] == 0, served


def test_wrk_report_with_refusals_is_parsed() -> None:
    report = (
        "Running 1s test @ http://127.0.0.1:1/x\n  Latency Distribution\n"
        "     50%    1.20ms\n     99%    3.50ms\n  1234 requests in 1.00s, 1 MB read\n"
        "  Socket errors: connect 0, read 2, write 0, timeout 1\n"
        "  Non-2xx or 3xx responses: 1200\nRequests/sec:   1234.00\n"
        "werkmatch-non-2xx: 1234\n"
    )
    result = scale_bench._wrk_result(report)
    assert (result["requests"], result["non_2xx"], result["socket_errors"]) == (1234, 1234, 3)
    assert (result["p50_ms"], result["p99_ms"], result["rps"]) == (1.2, 3.5, 1234.0)
    with pytest.raises(RuntimeError, match="no figures"):
        scale_bench._wrk_result("unable to connect")


def test_bench_exits_1_when_an_answer_is_not_2xx(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key the server does not know: every answer is refused, the figures are reported with
    their counts of refusals, and the command fails."""
    monkeypatch.setattr(scale_bench, "create_bench_key", lambda url: "wm_aaaaaaaaaaaa_" + "A" * 43)
    args = ["--sizes", "100", "--http-sizes", "100", "--queries", "10", "--duration", "1"]
    result = runner.invoke(app, ["bench", *args, "--no-ingest", "--json"])
    assert result.exit_code == 1, result.output
    # the figures are the one object with a size: the CLI's JSON log lines (on stderr, mixed
    # into the output here) are objects too, and whether one is written depends on the run
    objects = [json.loads(x) for x in result.output.splitlines() if x.startswith("{")]
    [figures] = [o for o in objects if "size" in o]
    assert figures["size"] == 100
    assert figures["non_2xx"]["check"] == 2
    assert figures["non_2xx"]["unfiltered"] > 0 and figures["non_2xx"]["filtered"] > 0
    assert figures["non_2xx"]["bare"] == 0
    assert figures["http_errors"] >= 2 + figures["http_requests"]["unfiltered"]
    assert "HTTP answers were not 2xx" in result.output


# ---------------------------------------------------------------- the real server's start-up


def _figures(output: str) -> list[dict[str, Any]]:
    """The objects with a size among the command's output lines (its JSON log lines, mixed in
    here, are objects too)."""
    objects = [json.loads(x) for x in output.splitlines() if x.startswith("{")]
    return [o for o in objects if "size" in o]


def test_bench_serves_from_the_database_then_from_its_snapshot() -> None:
    """A serve size alone: the real server starts from the database (writing a snapshot), then
    from that snapshot; both starts answer authenticated questions and report their memory."""
    args = ["--sizes", "100", "--http-sizes", "", "--serve-sizes", "200", "--queries", "10"]
    result = runner.invoke(app, ["bench", *args, "--no-ingest", "--json"])
    assert result.exit_code == 0, result.output
    inprocess_figures, served = _figures(result.output)
    assert inprocess_figures["size"] == 100 and inprocess_figures["http_note"] == "not measured"
    assert served["size"] == 200
    for start in ("database", "snapshot"):
        assert float(served[f"serve_ready_from_{start}_s"]) > 0
        assert float(served[f"serve_rss_from_{start}_mb"]) > 50
    assert float(served["serve_snapshot_mb"]) > 0
    assert not any(str(k).startswith("http_") for k in served)


def test_bench_loads_a_large_size_from_a_snapshot_it_wrote_populating_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A size in both ``--http-sizes`` and ``--serve-sizes`` above the server-rebuild limit:
    one database, a snapshot the bench wrote, the server started from it, and the HTTP load
    measured on that server (every answer a 2xx), with its memory after the load."""
    monkeypatch.setattr(scale_bench, "SERVER_REBUILD_MAX", 1000)
    populated: list[int] = []
    populate = scale_bench.populate

    def counted(db_url: str, size: int) -> str:
        populated.append(size)
        return populate(db_url, size)

    monkeypatch.setattr(scale_bench, "populate", counted)
    # 3,000 rows: enough for 20 matches through the bench's filters
    args = ["--sizes", "3000", "--http-sizes", "3000", "--serve-sizes", "3000", "--queries", "10"]
    result = runner.invoke(app, ["bench", *args, "--duration", "1", "--no-ingest", "--json"])
    assert result.exit_code == 0, result.output
    [figures] = _figures(result.output)
    assert populated == [3000]
    assert figures["http_errors"] == 0 and float(figures["http_rps"]) > 0
    assert float(figures["http_rps_filtered"]) > 0
    assert "serve_snapshot_built_in_bench_s" in figures
    assert "serve_ready_from_database_s" not in figures
    assert float(figures["serve_ready_from_snapshot_s"]) > 0
    assert float(figures["serve_rss_after_http_mb"]) > 50
