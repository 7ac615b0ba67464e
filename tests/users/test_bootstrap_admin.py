"""The first superadmin comes from settings, once: restarts never re-create or overwrite it."""

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from app.core.config import Settings
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

    assert await database.users.find({"role": "admin"}).to_list() == [admin]
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
