"""The ``werkmatch`` command: the typer app and its commands, in the order ``--help`` lists
them. Each command is argument handling in a module by concern; the work is done by the
packages below (``batch/``, ``state/``, ``store/``, ``tools/``)."""

from __future__ import annotations

import typer

from service.cli import bench, data, evaluation, rematch, server
from service.cli.keys import keys_app
from service.cli.occupations import occupations_app

app = typer.Typer(
    help="Werkmatch: job–candidate matching for Dutch public employment services.",
    no_args_is_help=True,
    add_completion=False,
)

app.command()(server.migrate)
app.command()(server.serve)
app.command("import")(data.import_)
app.command()(data.demo)
app.command()(server.check)
app.command()(bench.loadtest)
app.command()(bench.bench)
app.add_typer(occupations_app, name="occupations")
app.add_typer(keys_app, name="keys")
app.command("eval-occupations")(evaluation.eval_occupations)
app.command("eval")(evaluation.eval_)
app.command("eval-data")(evaluation.eval_data)
app.command("eval-fit")(evaluation.eval_fit)
app.command()(rematch.rematch)
app.command("bench-rematch")(bench.bench_rematch)
app.command("bench-rematch-store")(bench.bench_rematch_store)
