"""Bank account numbers are sealed at rest (AES-GCM) and opened only to register them with
RazorpayX; the database never holds them readable, responses show them masked."""

import pytest

from app.core.sealing import Unsealable
from app.payouts.crypto import open_account_number, seal_account_number
from tests.dealers.factories import approved_dealer
from tests.payouts.factories import (
    fund,
    pay_out,
    razorpayx,
    register_account,
    settled,
    verify_account,
)


async def test_account_numbers_are_sealed_at_rest_and_opened_only_for_razorpayx(
    api, live_server, mongo_db
):
    finance = await api.admin("finance")
    dealer, profile = await approved_dealer(api)
    number = "918273645501"
    response = await register_account(api, dealer, number)
    assert response.status_code == 201, response.text
    account = response.json()["data"]
    assert account["accountNumberMasked"] == "XXXXXX5501"
    await verify_account(api, finance, account["id"])
    await fund(profile["id"], 10_000)
    payout = (await pay_out(api, finance, profile["id"], 10_000)).json()["data"]
    assert (await settled(api, finance, payout["id"]))["status"] == "paid"

    raw = await mongo_db["payout_accounts"].find_one({"_id": account["id"]})
    assert "account_number" not in raw
    assert raw["account_number_sealed"].startswith("v1.")
    assert raw["account_number_masked"] == "XXXXXX5501"
    # Neither the number nor its last 8 digits are readable anywhere in the database.
    for name in await mongo_db.list_collection_names():
        async for document in mongo_db[name].find():
            assert number[-8:] not in repr(document), (name, document["_id"])
    # Only the configured key, for this account, opens it; each sealing is fresh.
    assert open_account_number(raw["account_number_sealed"], account["id"]) == number
    with pytest.raises(Unsealable):
        open_account_number(raw["account_number_sealed"], "pac_another_account")
    assert seal_account_number(number, account["id"]) != raw["account_number_sealed"]
    # RazorpayX received it once, to create the fund account the payout went to.
    [fund_account] = razorpayx(live_server).store.fund_accounts.values()  # type: ignore[attr-defined]
    assert fund_account["bank_account"]["account_number"] == number
    assert raw["provider_fund_account_id"] == fund_account["id"]
    listed = await api.client.get("/api/payouts/accounts", headers=dealer.headers)
    assert listed.status_code == 200 and number not in listed.text
