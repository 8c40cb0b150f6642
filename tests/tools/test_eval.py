"""``werkmatch eval`` / ``eval-data`` / ``eval-fit`` on tiny sets with the real model."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from matching.embedder import Encoder
from matching.ranking import WEIGHTS
from service.cli import app
from service.tools.eval_data import (
    HARD_VARIANTS,
    build_esco_hard,
    build_esco_nl,
    build_hahu_en,
    strip_names,
)
from service.tools.evaluation import (
    compute_signals,
    evaluate_signals,
    fit_calibration,
    fit_weights,
    read_qrels,
)
from tests.factories import CARE_CV, CATERING_CV, FORKLIFT_CV, FORKLIFT_VACANCY

runner = CliRunner()
ESCO_SUBSET = Path(__file__).resolve().parents[1] / "data" / "esco_subset"

CARE_VACANCY = {
    "title": "Verzorgende IG thuiszorg",
    "description": "Thuiszorgorganisatie zoekt een verzorgende IG voor persoonlijke verzorging "
    "van ouderen, medicatie aanreiken en rapporteren in het zorgdossier.",
}
KITCHEN_VACANCY = {
    "title": "Hulpkok restaurant",
    "description": "Restaurant zoekt een hulpkok voor de keuken: voorbereiden, afwassen, HACCP.",
}


def _folder(tmp_path: Path, qrels: str | None = None) -> Path:
    folder = tmp_path / "set"
    folder.mkdir()
    cands = [("c-fork", FORKLIFT_CV), ("c-care", CARE_CV), ("c-cook", CATERING_CV)]
    (folder / "candidates.jsonl").write_text(
        "".join(json.dumps({"external_id": i, "cv_text": t}) + "\n" for i, t in cands)
    )
    vacs = [("v-fork", FORKLIFT_VACANCY), ("v-care", CARE_VACANCY), ("v-cook", KITCHEN_VACANCY)]
    (folder / "vacancies.jsonl").write_text(
        "".join(json.dumps({"external_id": i, **v}) + "\n" for i, v in vacs)
    )
    default = "".join(
        f"{d}\t{p}-{x}\t{q}-{x}\t1\n"
        for x in ("fork", "care", "cook")
        for d, p, q in (("vacancy", "v", "c"), ("candidate", "c", "v"))
    )
    (folder / "qrels.tsv").write_text(
        qrels if qrels is not None else default + "vacancy\tv-x\tc-fork\t0\n"
    )
    return folder


def test_eval_ranks_each_pair_first(tmp_path: Path, encoder: Encoder) -> None:
    folder = _folder(tmp_path)
    table = compute_signals(folder, encoder)
    assert table.skipped == {"vacancy": 1, "candidate": 0}  # v-x has nothing relevant
    for mode in ("hybrid", "dense", "lexical"):
        result = evaluate_signals(table, mode)
        assert result["queries"] == {"vacancy": 3, "candidate": 3}
        assert result["mrr"] == 1.0 and result["ndcg@10"] == 1.0, mode
        assert result["recall@10"] == 1.0


def test_eval_metrics_follow_the_ranking(tmp_path: Path, encoder: Encoder) -> None:
    # Mark the wrong candidate relevant: it can only come 2nd or 3rd for the forklift vacancy.
    folder = _folder(tmp_path, "vacancy\tv-fork\tc-care\t1\n")
    result = evaluate_signals(compute_signals(folder, encoder), "dense")
    # metrics are reported rounded to 4 decimals: 1/3 is 0.3333
    assert result["mrr"] in (0.5, pytest.approx(1 / 3, abs=5e-5))
    assert result["recall@10"] == 1.0 and result["ndcg@10"] < 1.0


def test_eval_command_json_and_bad_input(
    tmp_path: Path, encoder: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WERKMATCH_EVAL_CACHE", str(tmp_path / "cache"))
    folder = _folder(tmp_path)
    result = runner.invoke(app, ["eval", str(folder), "--json", "--mode", "lexical"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    assert out["mode"] == "lexical" and out["mrr"] == 1.0
    assert set(out) >= {"dataset", "queries", "ndcg@10", "recall@10", "recall@50", "by_direction"}
    compare = runner.invoke(app, ["eval", str(folder), "--compare", "--json"])
    assert compare.exit_code == 0, compare.output
    compared = json.loads(compare.output.strip().splitlines()[-1])
    assert set(compared["modes"]) == {"hybrid", "dense", "lexical", "occupation"}
    assert compared["model"] == encoder.model_id and "semantic_floor" in compared
    # the texts' vectors were cached by the first run, under the model's id
    assert list((tmp_path / "cache").glob("*/*.npz"))
    text = runner.invoke(app, ["eval", str(folder), "--compare"])
    assert text.exit_code == 0 and "hybrid >= best single" in text.output, text.output
    assert runner.invoke(app, ["eval", str(folder), "--mode", "magic"]).exit_code == 2
    missing = runner.invoke(app, ["eval", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such folder" in missing.output
    (folder / "qrels.tsv").write_text("vacancy\tv-fork\tc-fork\n")
    bad = runner.invoke(app, ["eval", str(folder)])
    assert bad.exit_code == 2 and "4 tab-separated columns" in bad.output
    (folder / "qrels.tsv").unlink()
    gone = runner.invoke(app, ["eval", str(folder)])
    assert gone.exit_code == 2 and "qrels.tsv" in gone.output


def test_eval_rejects_invalid_rows(tmp_path: Path, encoder: Encoder) -> None:
    folder = _folder(tmp_path)
    (folder / "candidates.jsonl").write_text(
        json.dumps({"external_id": "c", "cv_text": " "}) + "\n"
    )
    with pytest.raises(ValueError, match=r"candidates\.jsonl line 1: cv_text"):
        compute_signals(folder, encoder)


def test_read_qrels_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "qrels.tsv"
    path.write_text("sideways\ta\tb\t1\n")
    with pytest.raises(ValueError, match="direction"):
        read_qrels(path)
    path.write_text("vacancy\ta\tb\thigh\n")
    with pytest.raises(ValueError, match="integer"):
        read_qrels(path)


def test_fit_weights_prefers_the_signal_that_ranks(tmp_path: Path, encoder: Encoder) -> None:
    table = compute_signals(_folder(tmp_path), encoder)
    weights, value = fit_weights([table], step=0.5)
    assert value == 1.0 and sum(weights.values()) == pytest.approx(1.0)
    # No desired occupations in this set: the occupation signal is 0 everywhere, so its
    # weight cannot be fitted here and keeps the configured value.
    assert weights["occupation"] == WEIGHTS["occupation"]


def test_build_esco_nl_splits_occupations(tmp_path: Path) -> None:
    counts = build_esco_nl(ESCO_SUBSET, tmp_path, per_part=50)
    assert counts["tuning"] + counts["test"] <= 26 and min(counts.values()) > 0
    tuning = tmp_path / "esco-nl-tuning"
    cands = [json.loads(x) for x in (tuning / "candidates.jsonl").read_text().splitlines()]
    vacs = [json.loads(x) for x in (tuning / "vacancies.jsonl").read_text().splitlines()]
    assert cands[0]["cv_text"].startswith("Werkervaring:\n- ") and vacs[0]["title"] == "Vacature"
    test_ids = (tmp_path / "esco-nl-test" / "candidates.jsonl").read_text()
    assert not any(c["external_id"] in test_ids for c in cands)  # no leak between parts
    qrels = read_qrels(tuning / "qrels.tsv")
    own = {q: t for q, ts in qrels["vacancy"].items() for t, r in ts.items() if r == 2}
    assert all(t == "c-" + q[2:] for q, t in own.items()) and len(own) == len(vacs)


def test_build_hahu_en_uses_the_synthetic_query_as_cv(tmp_path: Path) -> None:
    src = tmp_path / "hahu.csv"
    with src.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["", "ID", "title", "description", "esco_code", "synthetic_query"])
        for i in range(8):
            w.writerow(
                [
                    i,
                    i,
                    f"Driver {i}",
                    f"Drive trucks {i}",
                    "8332.1" if i < 4 else "2422",
                    "I drove.",
                ]
            )
    counts = build_hahu_en(src, tmp_path / "out")
    assert counts["tuning"] + counts["test"] == 8
    readme = (tmp_path / "out" / "hahu-en-test" / "README.md").read_text()
    assert "LLM-made proxy" in readme


def test_fit_calibration_prefers_the_signal_that_ranks(tmp_path: Path, encoder: Encoder) -> None:
    table = compute_signals(_folder(tmp_path), encoder)
    calibration, record = fit_calibration([table], step=0.5, floors=(0.0, 0.5))
    assert record["mean_ndcg@10"] == 1.0 and record["mean_shortfall"] == 0.0
    assert sum(calibration.weights.values()) == pytest.approx(1.0)
    assert calibration.semantic_floor in (0.0, 0.5)
    assert calibration.weights["occupation"] == WEIGHTS["occupation"]  # idle: not fitted


def test_strip_names_drops_the_sentences_naming_the_occupation() -> None:
    text = (
        "Medisch schrijvers produceren medische documenten. Zij werken met artsen. "
        "Een medisch schrijver test niets."
    )
    assert strip_names(text, ["medisch schrijver"]) == "Zij werken met artsen."
    assert strip_names("Koks koken.", ["kok"]) == ""


def test_build_esco_hard_variants(tmp_path: Path) -> None:
    from matching.esco import read_esco

    records = read_esco(ESCO_SUBSET)
    profiles = tmp_path / "profiles.jsonl"
    profiles.write_text(
        "".join(
            json.dumps(
                {
                    "occupation_uri": r.uri,
                    "occupation_name": f" occupation {i} ",
                    "essential_skills": ["skill a", "skill b", "skill c", "skill d"],
                }
            )
            + "\n"
            for i, r in enumerate(records)
        )
    )
    counts = build_esco_hard(ESCO_SUBSET, profiles, tmp_path / "out", per_part=50)
    assert set(counts) == set(HARD_VARIANTS)
    assert sum(counts["esco-en-nl"].values()) > 0
    by_id = {hashlib.sha256(r.uri.encode()).hexdigest()[:12]: r for r in records}
    for part, n in counts["esco-nl-noname"].items():
        vacs = [
            json.loads(x)
            for x in (tmp_path / "out" / f"esco-nl-noname-{part}" / "vacancies.jsonl")
            .read_text()
            .splitlines()
        ]
        assert len(vacs) == n
        for v in vacs:  # the occupation's own name is gone from its vacancy text
            record = by_id[v["external_id"][2:]]
            assert v["title"] == "Vacature" and v["description"]
            assert record.preferred_label.lower() not in v["description"].lower()
        shared = (tmp_path / "out" / f"esco-en-nl-{part}" / "vacancies.jsonl").read_text()
        assert (
            shared == (tmp_path / "out" / f"esco-nl-prose-{part}" / "vacancies.jsonl").read_text()
        )
        cvs = (tmp_path / "out" / f"esco-en-nl-{part}" / "candidates.jsonl").read_text()
        assert "I have worked as a occupation" in cvs and "skill a" in cvs
