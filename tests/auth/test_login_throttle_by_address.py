"""The sign-in throttle cannot be turned against the owner: it keys on (email, client IP)
and on the client IP, so an attacker throttled at one address leaves the owner signing in
from another. Real uvicorn behind a trusted proxy (127.0.0.1), X-Forwarded-For naming the
client, as a load balancer would."""

import httpx
import pytest

from app.core.config import Settings
from tests.helpers import PASSWORD, Api, assert_error
from tests.live import running_live

ATTACKER_IP, OWNER_IP = "198.51.100.66", "203.0.113.10"


def behind_proxy(config: Settings, **auth: int) -> Settings:
    return config.model_copy(update={
        "trusted_proxies": ["127.0.0.1"], "auth": config.auth.model_copy(update=auth)})


async def login(http: httpx.AsyncClient, email: str, password: str, ip: str) -> httpx.Response:
    return await http.post("/api/auth/login", json={"email": email, "password": password},
                           headers={"X-Forwarded-For": ip})


async def test_a_throttled_attacker_does_not_lock_the_owner_out(config, mongo_db):
    async with running_live(behind_proxy(config)) as server, httpx.AsyncClient(
        base_url=server.base_url
    ) as http:
        victim = await Api(http).signup()
        for n in range(5):
            assert_error(await login(http, victim.email, f"Guess-Number-{n}!", ATTACKER_IP), 401)

        attacker_again = await login(http, victim.email, "Guess-Number-6!", ATTACKER_IP)
        attacker_right = await login(http, victim.email, PASSWORD, ATTACKER_IP)
        owner = await login(http, victim.email, PASSWORD, OWNER_IP)

        assert_error(attacker_again, 429)
        assert int(attacker_again.headers["Retry-After"]) in (29, 30)
        assert_error(attacker_right, 429)  # the pair is throttled, even with the password
        assert owner.status_code == 200, owner.text
        assert owner.json()["data"]["user"]["id"] == victim.id
        session = await mongo_db.sign_in_sessions.find_one({"user_id": victim.id})
        assert session["ip"] == OWNER_IP
        pairs = {doc["_id"]: doc["failures"] async for doc in mongo_db.login_throttles.find(
            {"_id": {"$regex": "^pair:"}})}
        assert pairs == {f"pair:{ATTACKER_IP}:{victim.email}": 5,
                         f"pair:{OWNER_IP}:{victim.email}": 0}


async def test_an_address_guessing_over_many_accounts_is_throttled_on_all_of_them(config, mongo_db):
    async with running_live(behind_proxy(config, login_max_failures_per_ip=3)) as server, (
        httpx.AsyncClient(base_url=server.base_url)
    ) as http:
        api = Api(http)
        targets = [await api.signup() for _ in range(4)]
        for target in targets[:3]:
            assert_error(await login(http, target.email, "Wrong-Guess-123", ATTACKER_IP), 401)

        spray = await login(http, targets[3].email, PASSWORD, ATTACKER_IP)
        owner = await login(http, targets[3].email, PASSWORD, OWNER_IP)

        body = assert_error(spray, 429)
        assert "address" in body["message"] and body["data"]["retryAfter"] in (29, 30)
        assert owner.status_code == 200, owner.text
        state = await mongo_db.login_throttles.find_one({"_id": f"ip:{ATTACKER_IP}"})
        assert state["failures"] == 3 and state["blocked_until"] is not None
        assert await mongo_db.login_throttles.find_one({"_id": f"ip:{OWNER_IP}"}) is None


@pytest.mark.parametrize("forwarded", ["198.51.100.1", "198.51.100.2"])
async def test_each_client_address_has_its_own_budget_for_one_account(config, forwarded):
    async with running_live(behind_proxy(config)) as server, httpx.AsyncClient(
        base_url=server.base_url
    ) as http:
        account = await Api(http).signup()
        for _ in range(5):
            assert_error(await login(http, account.email, "Wrong-Guess-123", "192.0.2.200"), 401)

        response = await login(http, account.email, "Wrong-Guess-123", forwarded)

        assert_error(response, 401)  # checked and wrong, not throttled
