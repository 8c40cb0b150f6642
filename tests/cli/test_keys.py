"""API keys: random, stored hashed, revocable, expiring; `werkmatch keys create|list|revoke|demo`
with good and bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session
from typer.testing import CliRunner

from service.cli import app
from service.config import get_settings
from service.security.keys import TOKEN_RE, create_key, key_state, revoke_key, verify_token
from service.store.db import make_engine
from service.store.security_models import ApiKey

runner = CliRunner()


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    engine = make_engine(db_url)
    with Session(engine) as s:
        yield s
    engine.dispose()


@pytest.fixture
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", db_url)
    monkeypatch.setenv("WERKMATCH_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


def test_keys_are_random_hashed_and_verified(session: Session) -> None:
    key, token = create_key(session, "director", caseworker_id="cw-1", label="balie")
    other_key, other = create_key(session, "director")
    assert TOKEN_RE.match(token) and token != other and key.id != other_key.id
    secret = token.split("_", 2)[2]
    assert len(secret) == 43  # 256 bits, url-safe base64
    stored = session.exec(text("SELECT * FROM api_key")).all()  # type: ignore[call-overload]
    assert secret not in repr(stored) and token not in repr(stored)
    principal = verify_token(session, token)
    assert principal is not None
    assert (principal.role, principal.caseworker_id, principal.key_id) == (
        "director",
        "cw-1",
        key.id,
    )
    # a right id with a wrong secret, a made-up id, and garbage are all refused
    assert verify_token(session, f"wm_{key.id}_{'A' * 43}") is None
    assert verify_token(session, f"wm_zzzzzzzzzzzz_{secret}") is None
    for bad in ("", "wm_", token + "x", token.upper(), f"{token} ", "Bearer " + token):
        assert verify_token(session, bad) is None, bad


def test_revoked_and_expired_keys_are_refused(session: Session) -> None:
    key, token = create_key(session, "batch", expires_in_days=1)
    assert key_state(key) == "active" and verify_token(session, token) is not None
    key.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    session.add(key)
    session.commit()
    assert key_state(key) == "expired" and verify_token(session, token) is None
    key2, token2 = create_key(session, "admin")
    assert revoke_key(session, key2.id) is not None
    assert verify_token(session, token2) is None
    assert revoke_key(session, key2.id).revoked_at is not None  # type: ignore[union-attr]  # idempotent
    assert revoke_key(session, "nosuchkey000") is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"role": "root"}, "role"),
        ({"role": "employer"}, "employer_id"),
        ({"role": "director", "employer_id": "emp-a"}, "employer_id"),
        ({"role": "intake", "caseworker_id": "cw-1"}, "caseworker_id"),
        ({"role": "employer", "employer_id": "bad id!"}, "employer_id"),
        ({"role": "admin", "expires_in_days": 0}, "expires_in_days"),
        ({"role": "admin", "expires_in_days": 99999}, "expires_in_days"),
        ({"role": "admin", "label": "x" * 121}, "label"),
        ({"role": "admin", "organisation_id": "org-a"}, "organisation_id"),
        ({"role": "employer", "employer_id": "e", "organisation_id": "org-a"}, "organisation_id"),
        ({"role": "batch", "organisation_id": "org-a"}, "organisation_id"),
        ({"role": "intake", "organisation_id": "bad id!"}, "organisation_id"),
        ({"role": "director", "organisation_id": ""}, "organisation_id"),
        ({"role": "director", "organisation_id": "o" * 65}, "organisation_id"),
    ],
)
def test_bad_key_arguments_name_the_field(session: Session, kwargs: dict, field: str) -> None:
    kwargs = dict(kwargs)  # the parameter dict is shared by both backends' runs
    role = kwargs.pop("role")
    with pytest.raises(ValueError, match=f"^{field}:"):
        create_key(session, role, **kwargs)
    assert session.exec(text("SELECT count(*) FROM api_key")).one()[0] == 0  # type: ignore[call-overload]


def test_cli_create_list_revoke(env: str) -> None:
    made = runner.invoke(
        app,
        [
            "keys",
            "create",
            "--role",
            "employer",
            "--employer-id",
            "emp-a",
            "--label",
            "portaal",
            "--json",
        ],
    )
    assert made.exit_code == 0, made.output
    created = json.loads(made.stdout)
    assert created["role"] == "employer" and TOKEN_RE.match(created["token"])
    plain = runner.invoke(app, ["keys", "create", "--role", "batch", "--expires-in-days", "30"])
    assert plain.exit_code == 0 and "not shown again" in plain.output
    listed = runner.invoke(app, ["keys", "list", "--json"])
    assert listed.exit_code == 0
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {r["role"] for r in rows} == {"employer", "batch"}
    assert (
        created["token"] not in listed.output
        and created["token"].split("_", 2)[2] not in listed.output
    )
    engine = make_engine(env)
    with Session(engine) as s:
        key = s.get(ApiKey, created["key_id"])
        assert key is not None and key.secret_hash not in listed.output
    engine.dispose()
    revoked = runner.invoke(app, ["keys", "revoke", created["key_id"]])
    assert revoked.exit_code == 0
    states = {
        json.loads(line)["key_id"]: json.loads(line)["state"]
        for line in runner.invoke(app, ["keys", "list", "--json"]).stdout.splitlines()
    }
    assert states[created["key_id"]] == "revoked"
    assert runner.invoke(app, ["keys", "list"]).stdout.count("state=") == 2


def test_cli_bad_input(env: str) -> None:
    bad_role = runner.invoke(app, ["keys", "create", "--role", "root"])
    assert bad_role.exit_code == 2 and "role" in bad_role.output
    no_employer = runner.invoke(app, ["keys", "create", "--role", "employer"])
    assert no_employer.exit_code == 2 and "employer_id" in no_employer.output
    assert runner.invoke(app, ["keys", "create"]).exit_code == 2  # --role is required
    unknown = runner.invoke(app, ["keys", "revoke", "nosuchkey000"])
    assert unknown.exit_code == 2 and "key_id" in unknown.output
    assert runner.invoke(app, ["keys", "list"]).stdout.strip() == "no keys"


def test_cli_demo_key_replaces_the_previous_one(env: str) -> None:
    first = runner.invoke(app, ["keys", "demo"])
    second = runner.invoke(app, ["keys", "demo", "--url", "http://127.0.0.1:9000"])
    assert first.exit_code == second.exit_code == 0
    assert (
        'curl -H "Authorization: Bearer $WERKMATCH_KEY" "http://127.0.0.1:9000/v1/' in second.output
    )
    rows = [
        json.loads(x) for x in runner.invoke(app, ["keys", "list", "--json"]).stdout.splitlines()
    ]
    assert sorted(r["state"] for r in rows) == ["active", "revoked"]
    assert all(r["role"] == "admin" and r["label"] == "local-demo" for r in rows)


def test_keys_refuse_an_unmigrated_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WERKMATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["keys", "list"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1 and "werkmatch migrate" in result.output


def test_cli_binds_a_key_to_an_organisation(env: str) -> None:
    for role in ("intake", "director"):
        made = runner.invoke(
            app, ["keys", "create", "--role", role, "--organisation-id", "gem-rotterdam", "--json"]
        )
        assert made.exit_code == 0, made.output
    both = runner.invoke(
        app,
        [
            *("keys", "create", "--role", "director", "--caseworker-id", "cw-1"),
            *("--organisation-id", "uwv-rijnmond", "--json"),
        ],
    )
    assert both.exit_code == 0, both.output
    rows = [
        json.loads(line)
        for line in runner.invoke(app, ["keys", "list", "--json"]).stdout.splitlines()
    ]
    assert sorted((r["role"], r["organisation_id"], r["caseworker_id"]) for r in rows) == [
        ("director", "gem-rotterdam", None),
        ("director", "uwv-rijnmond", "cw-1"),
        ("intake", "gem-rotterdam", None),
    ]
    engine = make_engine(env)
    with Session(engine) as s:
        principal = verify_token(s, json.loads(both.stdout)["token"])
    engine.dispose()
    assert principal is not None
    assert (principal.organisation_id, principal.caseworker_id) == ("uwv-rijnmond", "cw-1")


@pytest.mark.parametrize(
    "args",
    [
        ["--role", "admin", "--organisation-id", "gem-rotterdam"],
        ["--role", "employer", "--employer-id", "emp-a", "--organisation-id", "gem-rotterdam"],
        ["--role", "batch", "--organisation-id", "gem-rotterdam"],
        ["--role", "intake", "--organisation-id", "gem rotterdam"],
        ["--role", "director", "--organisation-id", ""],
        ["--role", "director", "--organisation-id", "o" * 65],
    ],
)
def test_cli_bad_organisation_is_exit_2_naming_the_option(env: str, args: list[str]) -> None:
    made = runner.invoke(app, ["keys", "create", *args])
    assert made.exit_code == 2 and "--organisation-id" in made.output, made.output
    assert runner.invoke(app, ["keys", "list"]).stdout.strip() == "no keys"
