"""The first superadmin comes from settings, once: restarts never re-create or overwrite it."""

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr, ValidationError

from app.core.config import AuthSettings, Settings
from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, running_app

OTHER_PASSWORD = "An0ther-Bootstrap-Pass!"


@pytest.fixture
async def database(config: Settings, mongo_db) -> AsyncIterator[object]:
    """This test's database, dropped afterwards (these tests start their own apps)."""
    yield mongo_db
    await mongo_db.client.drop_database(mongo_db.name)


def with_bootstrap_password(config: Settings, password: str) -> Settings:
    auth = config.auth.model_copy(update={"bootstrap_admin_password": SecretStr(password)})
    return config.model_copy(update={"auth": auth})


async def sign_in(client, password: str) -> int:
    response = await client.post(
        "/api/auth/login", json={"email": ADMIN_EMAIL, "password": password}
    )
    return response.status_code


async def test_bootstrap_admin_is_created_once_and_never_overwritten(config: Settings, database):
    async with running_app(config) as first:
        assert await sign_in(first, ADMIN_PASSWORD) == 200
        [admin] = await database.users.find({"role": "admin"}).to_list()

    async with running_app(with_bootstrap_password(config, OTHER_PASSWORD)) as second:
        assert await sign_in(second, ADMIN_PASSWORD) == 200
        assert await sign_in(second, OTHER_PASSWORD) == 401

    # Only its sign-in sessions changed (each sign-in adds one); nothing was overwritten.
    [again] = await database.users.find({"role": "admin"}).to_list()
    assert len(again.pop("session_ids")) == 2 and len(admin.pop("session_ids")) == 1
    assert again == admin
    assert admin["scopes"] == ["superadmin"] and admin["status"] == "active"
    entries = await database.audit_entries.find({"action": "admin.bootstrapped"}).to_list()
    assert [(e["subject_id"], e["actor_id"]) for e in entries] == [(admin["_id"], "system")]


async def test_no_bootstrap_admin_without_settings(config: Settings, database):
    auth = config.auth.model_copy(
        update={"bootstrap_admin_email": None, "bootstrap_admin_password": None}
    )

    async with running_app(config.model_copy(update={"auth": auth})) as client:
        assert await sign_in(client, ADMIN_PASSWORD) == 401

    assert await database.users.count_documents({}) == 0


@pytest.mark.parametrize("weak", ["Short1!", "alllowercaseletters"], ids=["short", "one-class"])
async def test_a_weak_bootstrap_password_refuses_to_start(config: Settings, database, weak: str):
    with pytest.raises(ValueError, match="BOOTSTRAP_ADMIN_PASSWORD is refused: password must"):
        async with running_app(with_bootstrap_password(config, weak)):
            pass  # pragma: no cover - the app must not start

    assert await database.users.count_documents({}) == 0


def test_a_weak_bootstrap_password_in_the_environment_is_a_clear_settings_error(monkeypatch):
    monkeypatch.setenv("BOOTSTRAP_ADMIN_PASSWORD", "weakpassword")

    with pytest.raises(ValidationError) as refused:
        AuthSettings()

    message = str(refused.value)
    assert "BOOTSTRAP_ADMIN_PASSWORD" in message and "password must mix" in message
    assert "weakpassword" not in message  # the refused secret is not echoed
