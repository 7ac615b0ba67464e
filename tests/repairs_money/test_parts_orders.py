"""Parts for a job: the job's technician orders them naming the job (nobody else may), and a
quote's part line may name such an order once it is paid."""

from app.repairs.models import RepairStatus
from tests.helpers import Api, assert_error, field_errors
from tests.orders import factories as order_factories
from tests.repairs_money.factories import LABOUR, job, quote, stored
from tests.technicians.factories import approve, approved_technician, technician_profile

B2C, B2B = 60_000, 50_000


async def _order_for(api: Api, buyer, product_id: str, repair_id: str | None):
    body = order_factories.order_body((product_id, 1))
    if repair_id is not None:
        body["repairId"] = repair_id
    return await api.client.post("/api/orders", json=body, headers=buyer.headers)


async def _product(api: Api, stock: int = 10) -> dict:
    shop = await order_factories.shop(api)
    return await order_factories.part(api, shop, b2c=B2C, b2b=B2B, stock=stock)


async def test_the_jobs_technician_buys_parts_for_it_at_b2c_prices(api: Api, mongo_db):
    work = await job(api, RepairStatus.ON_SITE)
    product = await _product(api)

    response = await _order_for(api, work.technician, product["id"], work.id)

    assert response.status_code == 201, response.text
    order = response.json()["data"]
    assert order["repairId"] == work.id and order["buyerId"] == work.technician.id
    assert order["channel"] == "b2c" and order["subtotal"] == B2C
    assert (await order_factories.order_doc(mongo_db, order["id"]))["repair_id"] == work.id
    assert (await stored(work.id)).order_ids == [order["id"]]
    admin = await api.root_admin()
    assert await api.audited(admin, "repair.parts_order_linked", work.id)
    # A technician may buy without naming a job too, like any buyer.
    plain = await _order_for(api, work.technician, product["id"], None)
    assert plain.status_code == 201 and plain.json()["data"]["repairId"] is None
    mine = await api.client.get("/api/orders", headers=work.technician.headers)
    assert {o["id"] for o in mine.json()["data"]["items"]} == {order["id"],
                                                               plain.json()["data"]["id"]}


async def test_only_the_assigned_technician_may_name_the_job(api: Api, mongo_db):
    work = await job(api)
    other, _ = await approved_technician(api)
    product = await _product(api)
    before = await order_factories.order_count(mongo_db)

    for buyer, repair_id in ((other, work.id), (work.customer, work.id),
                             (work.technician, "rep_unknown")):
        response = await _order_for(api, buyer, product["id"], repair_id)
        assert field_errors(response) == {"body.repairId"}, response.text

    completed = await job(api, RepairStatus.COMPLETED)
    late = await _order_for(api, completed.technician, product["id"], completed.id)
    assert field_errors(late) == {"body.repairId"}
    assert await order_factories.order_count(mongo_db) == before
    assert (await stored(work.id)).order_ids == []
    assert (await order_factories.stock(mongo_db, product["id"]))["reserved"] == 0


async def test_a_part_line_names_a_paid_parts_order_of_this_job(api: Api):
    work = await job(api, RepairStatus.IN_PROGRESS)
    product = await _product(api)
    bought = (await _order_for(api, work.technician, product["id"], work.id)).json()["data"]
    part = {"description": "Display from the marketplace", "kind": "part", "amount": B2C,
            "orderId": bought["id"]}

    unpaid = await quote(api, work.technician, work.id, LABOUR, part)
    assert field_errors(unpaid) == {"body.lines.1.orderId"}
    await order_factories.pay(bought["id"])

    response = await quote(api, work.technician, work.id, LABOUR, part)

    assert response.status_code == 201, response.text
    lines = response.json()["data"]["quote"]["lines"]
    assert lines[1]["orderId"] == bought["id"]
    assert response.json()["data"]["orderIds"] == [bought["id"]]
    assert (await stored(work.id)).quote.lines[1].order_id == bought["id"]


async def test_a_part_line_refuses_other_orders(api: Api):
    work = await job(api, RepairStatus.IN_PROGRESS)
    other_job = await job(api, RepairStatus.IN_PROGRESS, technician=None)
    product = await _product(api)
    unrelated = (await _order_for(api, work.technician, product["id"], None)).json()["data"]
    others = (await _order_for(api, other_job.technician, product["id"],
                               other_job.id)).json()["data"]
    customers = await order_factories.placed(api, work.customer, (product["id"], 1))
    for order in (unrelated, others, customers):
        await order_factories.pay(order["id"])

    for order_id in (unrelated["id"], others["id"], customers["id"], "ord_unknown"):
        part = {"description": "Display", "kind": "part", "amount": B2C, "orderId": order_id}
        response = await quote(api, work.technician, work.id, part)
        assert field_errors(response) == {"body.lines.0.orderId"}, order_id
    labour_with_order = await quote(api, work.technician, work.id,
                                    {**LABOUR, "orderId": unrelated["id"]})
    assert field_errors(labour_with_order) == {"body.lines.0.orderId"}
    assert (await stored(work.id)).quote is None
    assert_error(labour_with_order, 422)


async def test_a_technician_whose_business_is_verified_buys_at_b2b_prices(api: Api):
    account = await api.technician(business={"legalName": "Quickfix Services",
                                              "gstin": "29ABCDE1234F1Z5"})
    response = await api.client.post("/api/technicians", json=technician_profile(),
                                      headers=account.headers)
    assert response.status_code == 201, response.text
    await approve(api, response.json()["data"]["id"])
    product = await _product(api, stock=20)
    before = await api.client.get(f"/api/products/{product['id']}", headers=account.headers)
    assert before.json()["data"].get("b2bPrice") is None  # not verified yet: B2C only

    admin = await api.root_admin()
    verified = await api.client.patch(f"/api/users/{account.id}/business-verification",
                                      json={"action": "verify"}, headers=admin.headers)
    assert verified.status_code == 200 and verified.json()["data"]["buyerType"] == "b2b"

    shown = await api.client.get(f"/api/products/{product['id']}", headers=account.headers)
    assert shown.json()["data"]["b2bPrice"] == B2B
    body = order_factories.order_body((product["id"], 20))  # ₹10,000: the B2B minimum
    order = await api.client.post("/api/orders", json=body, headers=account.headers)
    assert order.status_code == 201, order.text
    assert order.json()["data"]["channel"] == "b2b"
    assert order.json()["data"]["subtotal"] == 20 * B2B


async def test_a_dealer_cannot_apply_to_buy_as_a_business(api: Api):
    response = await api.client.post("/api/auth/signup", json={
        "email": "shop@example.com", "password": "Str0ng-Passw0rd!", "role": "dealer",
        "name": "A shop", "business": {"legalName": "Shop", "gstin": "29ABCDE1234F1Z5"}})
    assert field_errors(response) == {"body.business"}, response.text
