"""``werkmatch keys``: create, list and revoke API keys (the secret is printed once)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlmodel import Session

from service.config import get_settings
from service.store.security_models import ROLES

keys_app = typer.Typer(
    help="API keys: create (shown once), list, revoke. Roles: " + ", ".join(ROLES) + ".",
    no_args_is_help=True,
)

DEMO_LABEL = "local-demo"


@contextmanager
def _session() -> Iterator[Session]:
    """A session on the configured database; its engine's connections are closed on exit."""
    from service.store.db import SchemaNotMigrated, ensure_migrated, make_engine

    engine = make_engine(get_settings().resolved_database_url())
    try:
        try:
            ensure_migrated(engine)
        except SchemaNotMigrated as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@keys_app.command("create")
def create(
    role: Annotated[str, typer.Option(help="admin, director, intake, employer or batch.")],
    employer_id: Annotated[
        str | None, typer.Option(help="The employer an employer key is bound to.")
    ] = None,
    caseworker_id: Annotated[
        str | None, typer.Option(help="Limit a director key to this caseworker's caseload.")
    ] = None,
    organisation_id: Annotated[
        str | None,
        typer.Option(
            help="Bind an intake or director key to this organisation: it sees and writes "
            "only that organisation's candidates."
        ),
    ] = None,
    label: Annotated[str, typer.Option(help="Who or what holds the key.")] = "",
    expires_in_days: Annotated[
        float | None, typer.Option(help="Days until the key expires (default: never).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Create a key and print it once; only its hash is stored."""
    from service.security.keys import create_key

    with _session() as session:
        try:
            key, token = create_key(
                session,
                role,
                employer_id=employer_id,
                caseworker_id=caseworker_id,
                organisation_id=organisation_id,
                label=label,
                expires_in_days=expires_in_days,
            )
        except ValueError as exc:
            message = str(exc)
            if message.startswith("organisation_id:"):  # name the option as it was typed
                message = "--organisation-id" + message.removeprefix("organisation_id")
            _fail(message)
            return
    if json_out:
        typer.echo(json.dumps({"key_id": key.id, "role": key.role, "token": token}))
    else:
        typer.echo(f"key id: {key.id}  role: {key.role}")
        typer.echo("store this key now; it is not shown again:")
        typer.echo(token)


@keys_app.command("list")
def list_(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """List keys (never their secrets): id, role, tenant, label, state, dates."""
    from service.security.keys import key_state, list_keys

    with _session() as session:
        keys = list_keys(session)
    for key in keys:
        row = {
            "key_id": key.id,
            "role": key.role,
            "employer_id": key.employer_id,
            "caseworker_id": key.caseworker_id,
            "organisation_id": key.organisation_id,
            "label": key.label,
            "state": key_state(key),
            "created_at": key.created_at.isoformat(),
            "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        }
        if json_out:
            typer.echo(json.dumps(row))
        else:
            typer.echo("  ".join(f"{k}={v}" for k, v in row.items() if v is not None))
    if not keys and not json_out:
        typer.echo("no keys")


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key id (not the secret).")]) -> None:
    """Revoke a key at once; every worker refuses it from its next request."""
    from service.security.keys import revoke_key

    with _session() as session:
        key = revoke_key(session, key_id)
    if key is None:
        _fail(f"key_id: no key {key_id!r}")
    typer.echo(f"revoked {key_id}")


@keys_app.command("demo")
def demo(
    url: Annotated[str, typer.Option(help="Where the service will listen.")] = (
        "http://127.0.0.1:8000"
    ),
) -> None:
    """Replace the local demo key (an admin key valid for 7 days) and print a ready curl line."""
    from service.security.keys import create_key, revoke_labelled

    with _session() as session:
        revoke_labelled(session, DEMO_LABEL)
        key, token = create_key(session, "admin", label=DEMO_LABEL, expires_in_days=7)
    typer.echo(
        f"Local demo key (admin, key id {key.id}, expires in 7 days; for this machine only):"
    )
    typer.echo(f"  export WERKMATCH_KEY={token}")
    typer.echo("Try:")
    typer.echo(
        f'  curl -H "Authorization: Bearer $WERKMATCH_KEY" '
        f'"{url}/v1/employers/transport-rijnmond-bv/vacancies/vac-0001/matches?limit=3"'
    )
    typer.echo(f"Work-director page: {url}/ui (paste the key into its key field)")
