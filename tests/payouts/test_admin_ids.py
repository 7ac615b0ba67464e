"""Who paid out, and who verified the bank account, is shown to finance admins only."""

from tests.helpers import Api
from tests.payouts.factories import pay_out, payee


async def test_dealer_sees_its_payout_requested_by_an_admin_finance_sees_the_id(api: Api):
    finance = await api.admin("finance")
    dealer, profile, _ = await payee(api, finance, payable=40_000)
    paid = await pay_out(api, finance, profile["id"], 25_000)
    assert paid.status_code == 201, paid.text
    payout_id = paid.json()["data"]["id"]

    own = await api.client.get(f"/api/payouts/{payout_id}", headers=dealer.headers)
    listed = await api.client.get("/api/payouts", headers=dealer.headers)
    as_finance = await api.client.get(f"/api/payouts/{payout_id}", headers=finance.headers)

    assert own.status_code == 200 and listed.status_code == 200, own.text
    assert own.json()["data"]["requestedBy"] == {"role": "admin"}
    assert own.json()["data"]["statusHistory"][0]["by"] == {"role": "admin"}
    assert [p["requestedBy"] for p in listed.json()["data"]["items"]] == [{"role": "admin"}]
    assert finance.id not in own.text and finance.id not in listed.text
    assert as_finance.json()["data"]["requestedBy"] == finance.id
    assert as_finance.json()["data"]["statusHistory"][0]["by"] == finance.id


async def test_dealer_sees_its_account_verified_by_an_admin_not_its_id(api: Api):
    finance = await api.admin("finance")
    dealer, _, _ = await payee(api, finance)

    own = await api.client.get("/api/payouts/accounts", headers=dealer.headers)
    as_finance = await api.client.get("/api/payouts/accounts", headers=finance.headers)

    history = own.json()["data"]["items"][0]["statusHistory"]
    assert [(e["action"], e["by"]) for e in history] == [
        ("register", dealer.id), ("verify", {"role": "admin"})]
    assert finance.id not in own.text
    finance_items = as_finance.json()["data"]["items"]
    assert [e["by"] for e in finance_items[0]["statusHistory"]] == [dealer.id, finance.id]
