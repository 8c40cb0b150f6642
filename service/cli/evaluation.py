"""``werkmatch eval``, ``eval-data``, ``eval-fit`` and ``eval-occupations``: ranking quality
on evaluation sets, the sets themselves, and the weights fitted on them."""

from __future__ import annotations

import json
import os
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from service.cli.common import fail, setup_logging
from service.config import get_settings

if TYPE_CHECKING:
    from matching.vector_cache import CachedEncoder


def eval_occupations(
    folders: Annotated[
        list[Path],
        typer.Argument(
            help="MELO-format folders: queries.tsv, corpus_elements.tsv, annotations.tsv, "
            "concept_mapping.tsv (one result each; --dense embeds a corpus shared by several "
            "folders once)."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    dense: Annotated[
        bool,
        typer.Option(
            "--dense",
            help="Rank by the embedding model instead (WERKMATCH_MODEL): cosine of the title "
            "and a concept's nearest label.",
        ),
    ] = False,
    fused: Annotated[
        bool,
        typer.Option(
            "--fused",
            help="Rank by the normaliser fused with the embedding model (WERKMATCH_MODEL), "
            "through its shipped occupation adapter unless WERKMATCH_OCCUPATION_ADAPTER=false.",
        ),
    ] = False,
) -> None:
    """Concept-level accuracy@1, MRR and recall@10 of the occupation normaliser on MELO data."""
    from matching.melo import dense_scores, evaluate, fused_scores, load_melo
    from service.store.occupations import fusion_adapter

    if dense and fused:
        fail("--dense and --fused exclude each other", code=2)

    sets = []
    for folder in folders:
        if not folder.is_dir():
            fail(f"no such folder: {folder}", code=2)
        try:
            data = load_melo(folder)
        except ValueError as exc:
            fail(str(exc), code=2)
        if not data.queries:
            fail(f"{folder} has no annotated queries", code=2)
        sets.append(data)
    encoder = _eval_encoder() if dense or fused else None
    # the fused ranking is the service's: with the shipped adapter when the setting is on
    adapter = fusion_adapter(get_settings().occupation_adapter, encoder) if fused else None
    for data in sets:
        started = time.perf_counter()
        if encoder is not None:
            if fused:
                scores = fused_scores(data, encoder, adapter=adapter)
            else:
                scores = dense_scores(data, encoder)
            result = evaluate(data, scores=scores)
            result["model"] = encoder.model_id
            result["ranking"] = "fused" if fused else "dense"
            if adapter is not None:
                result["adapter"] = adapter.adapter_id
        else:
            result = evaluate(data)
        result["seconds"] = round(time.perf_counter() - started, 2)
        if as_json:
            typer.echo(json.dumps(result))
            continue
        ranking = f", {result['ranking']} with {result['model']}" if "model" in result else ""
        if "adapter" in result:
            ranking += f" and {result['adapter']}"
        typer.echo(
            f"{result['dataset']}: {result['queries']} queries, {result['concepts']} "
            f"concepts{ranking}"
        )
        typer.echo(f"{'part':8} {'queries':>7} {'acc@1':>6} {'MRR':>6} {'R@10':>6}")
        rows = [("all", result), *result["by_part"].items()]  # type: ignore[attr-defined]  # a result's values are typed object; by_part is a dict
        for name, m in rows:
            typer.echo(
                f"{name:8} {m['queries']:>7} {m['accuracy@1']:>6.3f} {m['mrr']:>6.3f} "
                f"{m['recall@10']:>6.3f}"
            )


class EvalMode(StrEnum):
    hybrid = "hybrid"
    dense = "dense"
    lexical = "lexical"


def _eval_encoder() -> CachedEncoder:
    """The configured encoder, its vectors of evaluation texts cached on disk by model id
    (``var/vector-cache``, or ``WERKMATCH_EVAL_CACHE``): reruns embed only new texts."""
    from matching.embedder import load_encoder
    from matching.vector_cache import CachedEncoder

    root = Path(os.environ.get("WERKMATCH_EVAL_CACHE", "var/vector-cache"))
    return CachedEncoder(load_encoder(*get_settings().encoder_args()), root)


def eval_(
    folder: Annotated[
        Path, typer.Argument(help="candidates.jsonl, vacancies.jsonl, qrels.tsv (EVAL-FORMAT.md).")
    ],
    mode: Annotated[EvalMode, typer.Option(help="Ranking to evaluate.")] = EvalMode.hybrid,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    compare: Annotated[
        bool,
        typer.Option(
            "--compare",
            help="Score every mode (and the occupation signal alone) on the same pairs.",
        ),
    ] = False,
) -> None:
    """nDCG@10, recall@10/50 and MRR of the CV ↔ vacancy ranking on a data set.

    The folder is loaded into a fresh temporary store through the API's import path.
    """
    from service.tools.evaluation import compare_modes, run_eval

    if not folder.is_dir():
        fail(f"no such folder: {folder}", code=2)
    setup_logging()
    try:
        if compare:
            table = compare_modes(folder, _eval_encoder())
        else:
            result = run_eval(folder, _eval_encoder(), mode.value)
    except ValueError as exc:
        fail(str(exc), code=2)
    if compare:
        if as_json:
            typer.echo(json.dumps(table))
            return
        typer.echo(
            f"{folder}: {table['model']}, weights {table['weights']}, "
            f"semantic floor {table['semantic_floor']}"
        )
        typer.echo(f"{'mode':10} {'nDCG@10':>8} {'R@10':>6} {'MRR':>6}")
        modes = table["modes"]
        for name, m in modes.items():  # type: ignore[attr-defined]  # a table's values are typed object; modes is a dict
            typer.echo(f"{name:10} {m['ndcg@10']:>8.3f} {m['recall@10']:>6.3f} {m['mrr']:>6.3f}")
        best = max(modes[m]["ndcg@10"] for m in ("dense", "lexical", "occupation"))  # type: ignore[index]  # typed object; a dict of floats
        margin = modes["hybrid"]["ndcg@10"] - best  # type: ignore[index]  # typed object; a dict of floats
        verdict = "hybrid >= best single" if margin >= 0 else "HYBRID BELOW best single"
        typer.echo(f"{verdict}: nDCG@10 {margin:+.3f}")
        return
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(f"{result['dataset']} ({result['mode']}), {result['seconds']} s")
    typer.echo(f"{'direction':10} {'queries':>7} {'nDCG@10':>8} {'R@10':>6} {'R@50':>6} {'MRR':>6}")
    rows = [*result["by_direction"].items(), ("all", result)]  # type: ignore[attr-defined]  # a result's values are typed object; a dict
    for name, m in rows:
        queries = sum(m["queries"].values()) if isinstance(m["queries"], dict) else m["queries"]
        typer.echo(
            f"{name:10} {queries:>7} {m['ndcg@10']:>8.3f} {m['recall@10']:>6.3f} "
            f"{m['recall@50']:>6.3f} {m['mrr']:>6.3f}"
        )


class EvalSource(StrEnum):
    esco_nl = "esco-nl"
    hahu_en = "hahu-en"
    esco_hard = "esco-hard"


def eval_data(
    source: Annotated[EvalSource, typer.Argument(help="Which set to build.")],
    out: Annotated[Path, typer.Argument(help="Folder to write <set>-tuning and <set>-test to.")],
    input_path: Annotated[
        Path | None,
        typer.Option(
            "--input",
            help="ESCO NL folder (esco-nl, esco-hard) or the hahu CSV (hahu-en); default: the "
            "copy in ../shared/data/external. esco-hard writes esco-nl-noname, esco-nl-prose "
            "and esco-en-nl (ESCO NL descriptions without the occupation's name; English CVs "
            "from the ESCO English skill profiles).",
        ),
    ] = None,
) -> None:
    """Build a CV ↔ vacancy evaluation set, split into a tuning and a test part."""
    from service.tools.eval_data import build_esco_hard, build_esco_nl, build_hahu_en

    external = Path("../shared/data/external")
    try:
        if source is EvalSource.esco_nl:
            counts = build_esco_nl(input_path or external / "esco/nl/v1.2.0", out)
        elif source is EvalSource.esco_hard:
            profiles = external / "esco/en/v1.2.0/occupation_skill_profiles_en.jsonl"
            if not profiles.is_file():
                fail(f"no such file: {profiles}", code=2)
            built = build_esco_hard(input_path or external / "esco/nl/v1.2.0", profiles, out)
            for variant, parts in built.items():
                for part, n in parts.items():
                    typer.echo(
                        f"wrote {out / f'{variant}-{part}'}: {n} candidates and {n} vacancies"
                    )
            return
        else:
            path = input_path or external / "hahu-vacancies/redacted_hahu_test_with_id.csv"
            if not path.is_file():
                fail(f"no such file: {path}", code=2)
            counts = build_hahu_en(path, out)
    except (ValueError, KeyError) as exc:
        fail(f"cannot build {source.value}: {exc}", code=2)
    for part, n in counts.items():
        typer.echo(f"wrote {out / f'{source.value}-{part}'}: {n} candidates and {n} vacancies")


def eval_fit(
    folders: Annotated[list[Path], typer.Argument(help="Tuning-part evaluation folders.")],
    write: Annotated[
        Path | None, typer.Option(help="Write the weights to this JSON file (the ranking config).")
    ] = None,
    calibrate: Annotated[
        bool,
        typer.Option(
            "--calibrate",
            help="Fit the configured model's calibration (semantic floor and weights, stored "
            "under models.<model> in the file) with a penalty for falling below a single "
            "signal, instead of the top-level weights.",
        ),
    ] = False,
) -> None:
    """Fit the hybrid weights on tuning sets: the best mean nDCG@10 on a 0.05 grid."""
    from service.tools.evaluation import compute_signals, fit_weights

    for folder in folders:
        if not folder.is_dir():
            fail(f"no such folder: {folder}", code=2)
    setup_logging()
    encoder = _eval_encoder()
    try:
        tables = [compute_signals(folder, encoder) for folder in folders]
    except ValueError as exc:
        fail(str(exc), code=2)
    if not calibrate:
        weights, value = fit_weights(tables)
        typer.echo(json.dumps({"weights": weights, "mean_ndcg@10": value}))
        if write is not None:
            old = json.loads(write.read_text(encoding="utf-8")) if write.is_file() else {}
            write.write_text(
                json.dumps(
                    {
                        **old,
                        "weights": weights,
                        "fitted_on": [str(f) for f in folders],
                        "mean_ndcg@10": value,
                        "how": "werkmatch eval-fit (grid step 0.05, best mean nDCG@10)",
                    },
                    indent=2,
                )
                + "\n",
                encoding="utf-8",
            )
        return
    from matching.ranking import model_key
    from service.tools.evaluation import fit_calibration

    calibration, record = fit_calibration(tables)
    entry = {
        "weights": calibration.weights,
        "semantic_floor": calibration.semantic_floor,
        "fitted_on": [str(f) for f in folders],
        **record,
        "how": "werkmatch eval-fit --calibrate (floor grid, weight grid step 0.05; mean "
        "nDCG@10 minus 2 x mean shortfall below the best single signal)",
    }
    typer.echo(json.dumps({"model": encoder.model_id, **entry}))
    if write is not None:
        config = json.loads(write.read_text(encoding="utf-8")) if write.is_file() else {}
        config.setdefault("models", {})[model_key(encoder.model_id)] = entry
        write.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
