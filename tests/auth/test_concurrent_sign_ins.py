"""A correct password is never refused because other sign-ins of the account were in flight:
not when they race to create the (email, IP) pair's throttle document, not under a load of
many accounts at once, and not after checks in flight were cancelled."""

import asyncio
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from app.core.security import _password_hash
from tests.auth.test_login import login
from tests.commands import CommandCounter
from tests.helpers import PASSWORD, Api, eventually

ACCOUNTS, SIGN_INS, CLIENTS = 20, 500, 32


def _pair(email: str) -> dict[str, str]:
    return {"_id": f"pair:127.0.0.1:{email}"}


async def test_sign_ins_racing_to_create_the_pair_each_take_a_check_at_once(
    commands: CommandCounter, api: Api, client, mongo_db: AsyncDatabase
) -> None:
    account = await api.signup()
    assert await mongo_db.login_throttles.find_one(_pair(account.email)) is None

    responses = await asyncio.gather(*(login(client, account.email, PASSWORD) for _ in range(5)))

    assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
    pair = await mongo_db.login_throttles.find_one(_pair(account.email))
    assert (pair["failures"], pair["checking"], pair["used"]) == (0, 0, 0)
    for response in responses:
        # The one look-up of the throttles is the IP's: a sign-in that lost the race to
        # create the pair takes its check in the pair just created, without waiting on it.
        sent = [str(c) for c in commands.of(response) if c.target == "login_throttles"]
        assert sent.count("find login_throttles") == 1, sent


async def test_500_correct_sign_ins_over_20_accounts_are_never_refused(
    api: Api, client, mongo_db: AsyncDatabase
) -> None:
    accounts = [await api.signup() for _ in range(ACCOUNTS)]
    gate = asyncio.Semaphore(CLIENTS)

    async def sign_in(n: int) -> Any:
        async with gate:
            return await login(client, accounts[n % ACCOUNTS].email, PASSWORD)

    responses = await asyncio.gather(*(sign_in(n) for n in range(SIGN_INS)))

    refused = [r.text for r in responses if r.status_code != 200]
    assert refused == [], f"{len(refused)} of {SIGN_INS} correct sign-ins refused: {refused[:3]}"
    assert all(r.json()["success"] is True for r in responses)
    pairs = await mongo_db.login_throttles.find({"_id": {"$regex": "^pair:"}}).to_list()
    assert len(pairs) == ACCOUNTS
    assert {(p["failures"], p["checking"], p["used"]) for p in pairs} == {(0, 0, 0)}
    assert await mongo_db.refresh_tokens.count_documents({}) == SIGN_INS


async def test_checks_cancelled_in_flight_give_their_budget_back(
    api: Api, client, mongo_db: AsyncDatabase
) -> None:
    account = await api.signup()
    sign_ins = [asyncio.create_task(login(client, account.email, PASSWORD)) for _ in range(5)]
    await eventually(
        lambda: mongo_db.login_throttles.find_one(_pair(account.email)),
        lambda pair: pair is not None and pair["checking"] > 0,
    )

    for task in sign_ins:
        task.cancel()
    await asyncio.gather(*sign_ins, return_exceptions=True)

    # Without giving the checks back the pair would stay full, and every later correct
    # password would wait for checks that never end, then get a 429.
    pair = await eventually(
        lambda: mongo_db.login_throttles.find_one(_pair(account.email)),
        lambda pair: pair["checking"] == 0,
    )
    assert (pair["failures"], pair["used"]) == (0, 0)
    response = await login(client, account.email, PASSWORD)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["user"]["id"] == account.id


def test_passwords_are_hashed_with_owasp_argon2id_parameters() -> None:
    # OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB (19456 KiB), t=2, p=1.
    encoded = _password_hash.hash("Corr3ct-Horse-Battery")
    assert encoded.startswith("$argon2id$v=19$m=19456,t=2,p=1$"), encoded
