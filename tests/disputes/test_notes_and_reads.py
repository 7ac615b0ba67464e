"""Who reads a dispute, and evidence notes from the buyer, the dealer and admins."""

from tests.disputes.factories import Disputes
from tests.helpers import assert_error, field_errors
from tests.payments.factories import Payments


async def test_buyer_and_dealer_add_notes_and_read_them(pay: Payments, disputes: Disputes):
    purchase = await pay.delivered()
    dispute = await disputes.opened(purchase)
    buyer, dealer = purchase.buyer, purchase.shop.account

    by_buyer = await disputes.note(dispute["id"], buyer, "Photo of the cracked screen attached.")
    by_dealer = await disputes.note(dispute["id"], dealer, "It was packed in bubble wrap; see AWB.")

    assert by_buyer.status_code == 201, by_buyer.text
    assert by_dealer.status_code == 201, by_dealer.text
    for reader in (buyer, dealer):
        response = await disputes.get(dispute["id"], reader)
        assert response.status_code == 200, response.text
        notes = response.json()["data"]["notes"]
        assert [(n["authorId"], n["role"]) for n in notes] == [(buyer.id, "buyer"),
                                                                (dealer.id, "dealer")]
        assert notes[0]["text"] == "Photo of the cracked screen attached."
        assert all(n["at"] and n["id"] for n in notes)
    audited = await disputes.audited("dispute.note_added", dispute["id"], count=2)
    assert {(e["actorId"], e["reason"], e["metadata"]["role"]) for e in audited} == {
        (buyer.id, "Photo of the cracked screen attached.", "buyer"),
        (dealer.id, "It was packed in bubble wrap; see AWB.", "dealer"),
    }


async def test_strangers_get_404_and_any_admin_reads(pay: Payments, disputes: Disputes):
    purchase = await pay.delivered()
    dispute = await disputes.opened(purchase)
    stranger = await pay.api.customer()
    other_dealer = (await pay.order())[0].account

    for outsider in (stranger, other_dealer):
        assert_error(await disputes.get(dispute["id"], outsider), 404)
        assert_error(await disputes.note(dispute["id"], outsider, "Let me in please."), 404)
    assert_error(await disputes.get("dsp_missing", purchase.buyer), 404)
    finance = await pay.finance()
    read = await disputes.get(dispute["id"], finance)
    assert read.status_code == 200 and read.json()["data"]["allowedActions"] == []


async def test_only_dispute_admins_add_notes_among_admins(pay: Payments, disputes: Disputes):
    purchase = await pay.delivered()
    dispute = await disputes.opened(purchase)

    finance_note = await disputes.note(dispute["id"], await pay.finance(), "Finance view here.")
    ops_note = await disputes.note(dispute["id"], await disputes.lead(), "Asked courier for POD.")
    patched = await disputes.patch(dispute["id"], {"note": "Courier says delivered intact."})

    assert_error(finance_note, 403)
    assert ops_note.status_code == 201, ops_note.text
    assert patched.status_code == 200, patched.text
    notes = patched.json()["data"]["notes"]
    assert [n["role"] for n in notes] == ["admin", "admin"]
    assert patched.json()["data"]["status"] == "open"
    assert set(patched.json()["data"]["allowedActions"]) == {"add_note", "resolve"}
    assert_error(await disputes.patch(dispute["id"], {"note": "Not mine to manage."},
                                      await pay.finance()), 403)


async def test_notes_are_validated(pay: Payments, disputes: Disputes):
    purchase = await pay.delivered()
    dispute = await disputes.opened(purchase)

    assert field_errors(await disputes.note(dispute["id"], purchase.buyer, "")) == {"body.text"}
    assert field_errors(await disputes.note(dispute["id"], purchase.buyer, "x" * 2001)) == {
        "body.text"}
    assert field_errors(await disputes.patch(dispute["id"], {})) == {"body"}


async def test_lists_show_own_disputes_and_admins_filter(pay: Payments, disputes: Disputes):
    first = await pay.delivered()
    second = await pay.delivered()
    one = await disputes.opened(first)
    two = await disputes.opened(second)

    buyer_list = await pay.client.get("/api/disputes", headers=first.buyer.headers)
    dealer_list = await pay.client.get("/api/disputes", headers=second.shop.account.headers)
    assert [d["id"] for d in buyer_list.json()["data"]["items"]] == [one["id"]]
    assert [d["id"] for d in dealer_list.json()["data"]["items"]] == [two["id"]]

    finance = await pay.finance()
    everything = await pay.client.get("/api/admin/disputes", params={"status": "open"},
                                      headers=finance.headers)
    assert everything.status_code == 200, everything.text
    assert {d["id"] for d in everything.json()["data"]["items"]} == {one["id"], two["id"]}
    by_dealer = await pay.client.get("/api/admin/disputes",
                                     params={"dealerId": first.shop.dealer_id},
                                     headers=finance.headers)
    assert [d["id"] for d in by_dealer.json()["data"]["items"]] == [one["id"]]
    by_order = await pay.client.get("/api/admin/disputes",
                                    params={"orderId": second.order["id"]},
                                    headers=finance.headers)
    assert [d["id"] for d in by_order.json()["data"]["items"]] == [two["id"]]
    paged = await pay.client.get("/api/admin/disputes", params={"limit": 1},
                                 headers=finance.headers)
    page = paged.json()["data"]
    assert len(page["items"]) == 1 and page["nextCursor"]
    rest = await pay.client.get("/api/admin/disputes",
                                params={"limit": 1, "cursor": page["nextCursor"]},
                                headers=finance.headers)
    assert {page["items"][0]["id"], rest.json()["data"]["items"][0]["id"]} == {one["id"],
                                                                                  two["id"]}
    assert_error(await pay.client.get("/api/admin/disputes", headers=first.buyer.headers), 403)
