"""`parts-platform create-admin`: the way to the first admin without bootstrap settings."""

import asyncio
import os
import sys
from pathlib import Path

import pytest

from app import cli
from app.core.config import Settings, get_settings
from tests.helpers import PASSWORD, Api, unique_email

PROJECT_ROOT = Path(__file__).resolve().parents[2]


async def run_cli(config: Settings, *args: str) -> tuple[int, str, str]:
    """Run the installed entry point's module in its own process against the test database."""
    env = {**os.environ, "MONGODB_URL": config.database.mongodb_url or "",
           "MONGODB_DB": config.database.mongodb_db, "LOG_LEVEL": "WARNING"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.cli", *args, cwd=PROJECT_ROOT, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_create_admin_makes_an_admin_who_can_sign_in(api: Api, config: Settings):
    email = unique_email("Cli.Admin")

    code, out, err = await run_cli(
        config, "create-admin", "--email", email, "--password", PASSWORD,
        "--scopes", "finance, compliance",
    )

    assert code == 0, err
    assert "Admin created" in out and PASSWORD not in out + err
    login = await api.client.post(
        "/api/auth/login", json={"email": email.lower(), "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    user = login.json()["data"]["user"]
    assert (user["role"], user["status"], user["scopes"]) == ("admin", "active",
                                                             ["compliance", "finance"])
    [entry] = await api.audited(await api.root_admin(), "admin.created", user["id"])
    assert entry["actorId"] == "system"
    assert (await api.sequenced_chain(await api.root_admin()))["valid"] is True


async def test_create_admin_without_a_terminal_asks_for_password_flag(
    config: Settings, mongo_db
):
    email = unique_email("no.tty")

    code, out, err = await run_cli(config, "create-admin", "--email", email)  # stdin: not a tty

    assert code == 2 and out == ""
    assert "pass --password" in err and "Traceback" not in err
    assert await mongo_db.users.count_documents({"email": email.lower()}) == 0


async def test_create_admin_refuses_a_weak_password_and_creates_nothing(
    config: Settings, mongo_db, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
):
    monkeypatch.setenv("MONGODB_URL", config.database.mongodb_url or "")
    monkeypatch.setenv("MONGODB_DB", config.database.mongodb_db)
    get_settings.cache_clear()
    email = unique_email("weak.admin")

    try:
        code = cli.main(["create-admin", "--email", email, "--password", "password"])
    finally:
        get_settings.cache_clear()

    assert code == 2
    assert "password" in capsys.readouterr().err
    assert await mongo_db.users.count_documents({"email": email}) == 0


async def test_create_admin_refuses_an_unknown_scope(
    config: Settings, mongo_db, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
):
    monkeypatch.setenv("MONGODB_URL", config.database.mongodb_url or "")
    monkeypatch.setenv("MONGODB_DB", config.database.mongodb_db)
    get_settings.cache_clear()
    email = unique_email("odd.admin")

    try:
        code = cli.main(["create-admin", "--email", email, "--password", PASSWORD,
                         "--scopes", "root"])
    finally:
        get_settings.cache_clear()

    assert code == 2 and "scopes" in capsys.readouterr().err
    assert await mongo_db.users.count_documents({"email": email}) == 0


async def test_create_admin_refuses_a_taken_email(api: Api, config: Settings, mongo_db):
    customer = await api.signup()

    code, _, err = await run_cli(
        config, "create-admin", "--email", customer.email, "--password", PASSWORD,
    )

    assert code == 1 and "already exists" in err
    stored = await mongo_db.users.find_one({"email": customer.email})
    assert stored["role"] == "customer"
