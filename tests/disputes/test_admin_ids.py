"""The deciding admin's id (and an admin's notes' author id) are for admins only."""

from tests.disputes.factories import Disputes
from tests.payments.factories import Payments


async def test_buyer_and_dealer_see_who_decided_only_as_an_admin(pay: Payments,
                                                                 disputes: Disputes):
    purchase = await pay.delivered()
    dispute = await disputes.opened(purchase)
    ops = await disputes.lead()
    noted = await disputes.patch(dispute["id"], {"note": "Asked the courier for photos"})
    assert noted.status_code == 200, noted.text
    resolved = await disputes.resolve(dispute["id"], "refund_buyer")
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["data"]["resolution"]["decidedBy"] == ops.id

    for account in (purchase.buyer, purchase.shop.account):
        seen = await disputes.get(dispute["id"], account)
        assert seen.status_code == 200, seen.text
        data = seen.json()["data"]
        assert data["resolution"]["decidedBy"] == {"role": "admin"}
        admin_notes = [n for n in data["notes"] if n["role"] == "admin"]
        assert admin_notes and all(n["authorId"] == {"role": "admin"} for n in admin_notes)
        assert ops.id not in seen.text
    as_admin = await disputes.get(dispute["id"], await disputes.auditor())
    data = as_admin.json()["data"]
    assert data["resolution"]["decidedBy"] == ops.id
    assert [n["authorId"] for n in data["notes"] if n["role"] == "admin"] == [ops.id]


async def test_payer_sees_a_manual_hold_by_an_admin_not_its_id(pay: Payments):
    purchase = await pay.paid()
    finance = await pay.finance()
    held = await pay.client.patch(f"/api/payments/{purchase.payment['id']}/hold",
                                  json={"hold": True, "reason": "Chargeback risk"},
                                  headers=finance.headers)
    assert held.status_code == 200, held.text

    for account in (purchase.buyer, purchase.shop.account):
        seen = await pay.payment(purchase.payment["id"], as_=account)
        assert seen["hold"]["by"] == {"role": "admin"}
    assert (await pay.payment(purchase.payment["id"]))["hold"]["by"] == finance.id
