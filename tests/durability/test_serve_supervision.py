"""`parts-platform serve` (what `make run` runs) survives its embedded database dying: the
child is reaped and restarted on the same data, requests meanwhile answer 503 with
Retry-After within seconds, repeated deaths raise an alert, and Ctrl-C still stops it."""

import signal
import time
from pathlib import Path

import httpx
import pytest
from pymongo import AsyncMongoClient

from tests.durability.serving import alive, exists, served
from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD, eventually, unique_email

pytestmark = pytest.mark.durability
DB_NAME = "parts_platform"
DOWN_BACKOFF = "4"  # long enough to watch the outage; the default is 0.5 s


async def _signup(http: httpx.AsyncClient) -> str:
    email = unique_email("survivor")
    response = await http.post("/api/auth/signup", json={
        "email": email, "password": PASSWORD, "role": "customer", "name": "Survivor",
    })
    assert response.status_code == 201, response.text
    return email


async def _login(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post("/api/auth/login", json={"email": email, "password": password})


async def test_a_killed_database_is_reaped_answered_503_restarted_and_ctrl_c_still_stops(
    tmp_path: Path,
):
    async with (
        served(tmp_path, EMBEDDED_DB_RESTART_BACKOFF_SECONDS=DOWN_BACKOFF) as server,
        httpx.AsyncClient(base_url=server.base_url, timeout=30) as http,
    ):
        email = await _signup(http)
        first_pid = server.kill_database()

        # Reaped (no zombie left behind) and /ready tells the truth at once.
        await eventually(lambda: _async(exists(first_pid)), lambda present: not present, 3)
        assert await server.ready_status() == 503
        assert (await http.get("/health")).status_code == 200
        started = time.monotonic()
        response = await _login(http, email)
        elapsed = time.monotonic() - started
        assert response.status_code == 503, response.text
        assert elapsed < 3.0, f"took {elapsed:.1f}s"
        body = response.json()
        assert body["success"] is False and body["traceId"]
        assert body["data"] == {"retryAfter": 5}
        assert response.headers["Retry-After"] == "5"

        # Restarted on the same data: the account made before the crash signs in.
        await server.until_ready(30)
        second_pid = server.db_pid()
        assert second_pid is not None and second_pid != first_pid and alive(second_pid)
        login = await _login(http, email)
        assert login.status_code == 200, login.text
        assert "embedded database died" in server.log()

        # Ctrl-C while the database is down again: out within 10 s, no database left.
        server.kill_database()
        await eventually(server.ready_status, lambda status: status == 503, 5)
        assert server.process is not None
        server.process.send_signal(signal.SIGINT)
        await server.wait_exit(10)
        assert server.db_pid() is None or not alive(server.db_pid() or 0)
        assert not alive(second_pid)


async def test_ctrl_c_stops_serve_and_its_database_when_all_is_well(tmp_path: Path):
    async with served(tmp_path) as server:
        db_pid = server.db_pid()
        assert db_pid is not None and alive(db_pid)
        assert server.process is not None
        server.process.send_signal(signal.SIGINT)
        await server.wait_exit(10)
        await eventually(lambda: _async(alive(db_pid)), lambda running: not running, 5)
        assert not (tmp_path / "db" / "embedded-db.pid").exists()


async def test_repeated_deaths_raise_one_alert_the_admins_see(tmp_path: Path):
    async with served(tmp_path, EMBEDDED_DB_RESTART_BACKOFF_SECONDS="0.2") as server:
        pids = []
        for _ in range(3):
            await server.until_ready(30)
            pids.append(server.kill_database())
            await eventually(lambda: _async(server.db_pid()), lambda pid: pid not in pids, 30)
        await server.until_ready(30)
        assert len(set(pids)) == 3 and not any(alive(pid) for pid in pids)

        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            login = await _login(http, ADMIN_EMAIL, ADMIN_PASSWORD)
            assert login.status_code == 200, login.text
            headers = {"Authorization": f"Bearer {login.json()['data']['accessToken']}"}

            async def alerts() -> list[dict]:
                response = await http.get("/api/admin/alerts", headers=headers,
                                          params={"kind": "database_restarted"})
                assert response.status_code == 200, response.text
                return response.json()["data"]["items"]

            [alert] = await eventually(alerts, lambda items: len(items) == 1, 15)
            assert alert["kind"] == "database_restarted"
            assert alert["details"]["deaths"] >= 3

        client: AsyncMongoClient = AsyncMongoClient(server.db_url())
        try:
            stored = await client[DB_NAME].alerts.count_documents({"kind": "database_restarted"})
            audited = await client[DB_NAME].audit_entries.count_documents(
                {"action": "alert.database_restarted"}
            )
        finally:
            await client.close()
        assert stored == 1
        assert audited == 1


async def _async(value):  # noqa: ANN001, ANN202
    return value
