"""Booking: the schema and rule checks, the IMEI sealed at rest and masked in every answer,
software jobs waiting for an admin, and the job's shape."""

import base64

import pytest

from app.core.sealing import Unsealable
from app.repairs.imei import open_imei
from tests.helpers import assert_error, field_errors
from tests.repairs.factories import (
    HOME,
    VALID_IMEI,
    book,
    book_software,
    data_of,
    get,
    hardware_body,
    later,
    software_body,
    technician_near,
)

MASKED = "•" * 11 + VALID_IMEI[-4:]


async def test_hardware_booking_is_offered_at_once_and_the_imei_is_sealed(api, mongo_db):
    customer = await api.customer()
    _, profile = await technician_near(api, HOME)

    response = await book(api, customer, hardware_body(*HOME, scheduledAt=later(60)))

    repair = data_of(response, 201)
    assert repair["id"].startswith("rep_") and repair["status"] == "offered"
    assert repair["imei"] == MASKED
    assert repair["offer"]["technicianId"] == profile["id"] and repair["offer"]["expiresAt"]
    assert repair["technicianId"] is None and repair["quote"] is None
    assert repair["paymentId"] is None and repair["orderIds"] == []
    assert [(h["fromStatus"], h["toStatus"], h["action"]) for h in repair["statusHistory"]] == [
        (None, "unassigned", "book"), ("unassigned", "offered", "offer")]
    for name in ("deviceBrand", "deviceModel", "issueType", "mode", "location", "address",
                 "scheduledAt", "createdAt", "updatedAt"):
        assert repair[name] is not None, name
    assert VALID_IMEI not in response.text
    doc = await mongo_db.repairs.find_one({"_id": repair["id"]})
    assert VALID_IMEI not in str(doc)
    assert doc["imei_sealed"].startswith("v1.") and doc["imei_last4"] == VALID_IMEI[-4:]
    assert open_imei(doc["imei_sealed"], repair["id"]) == VALID_IMEI
    with pytest.raises(Unsealable):
        open_imei(doc["imei_sealed"], "rep_other")  # bound to its job
    raw = base64.b64decode(doc["imei_sealed"][3:])
    assert VALID_IMEI.encode() not in raw
    # Masked in every other answer too.
    assert (data_of(await get(api, customer, repair["id"])))["imei"] == MASKED
    mine = data_of(await api.client.get("/api/repairs", headers=customer.headers))
    assert [r["imei"] for r in mine["items"]] == [MASKED]
    offer = await mongo_db.repair_offers.find_one({"repair_id": repair["id"]})
    assert offer["technician_id"] == profile["id"] and offer["outcome"] == "pending"


async def test_software_booking_waits_for_an_admin(api, mongo_db):
    customer = await api.customer()
    repair = await book_software(api, customer)
    assert repair["status"] == "awaiting_assignment" and repair["offer"] is None
    assert repair["imei"] is None and repair["location"] is None
    assert await mongo_db.repair_offers.count_documents({}) == 0
    auditor = await api.root_admin()
    entries = await api.audited(auditor, "repair.book", repair["id"])
    assert entries[0]["actorId"] == customer.id


@pytest.mark.parametrize("body, field, flag", [
    (hardware_body(*HOME, mode="online"), "body.mode", "MODE_NOT_ALLOWED"),
    (hardware_body(*HOME, location=None), "body.location", None),
    (software_body(mode="offline"), "body.location", None),
    (hardware_body(*HOME, imei="490154203237519"), "body.imei", "INVALID_IMEI"),
    (hardware_body(*HOME, imei="49015420323751"), "body.imei", "INVALID_IMEI"),
    (hardware_body(*HOME, imei="49015420323751a"), "body.imei", "INVALID_IMEI"),
])
async def test_booking_rules_refuse_with_422(api, mongo_db, body, field, flag):
    customer = await api.customer()
    response = await book(api, customer, body)
    assert field in field_errors(response)
    if flag:
        assert response.json()["data"]["ruleFlags"] == [flag]
    assert await mongo_db.repairs.count_documents({}) == 0


async def test_schedule_bounds_and_schema_limits(api, mongo_db):
    customer = await api.customer()
    for minutes in (29, 14 * 24 * 60 + 5, -60):
        response = await book(api, customer, software_body(scheduledAt=later(minutes)))
        assert "body.scheduledAt" in field_errors(response), minutes
    for minutes in (31, 14 * 24 * 60 - 5):
        assert (await book(api, customer, software_body(scheduledAt=later(minutes)))
                ).status_code == 201
    for overrides, field in (({"issueDescription": "too short"}, "body.issueDescription"),
                             ({"issueDescription": "x" * 2001}, "body.issueDescription"),
                             ({"issueType": "plumbing"}, "body.issueType"),
                             ({"colour": "red"}, "body.colour")):
        assert field in field_errors(await book(api, customer, software_body(**overrides)))
    assert await mongo_db.repairs.count_documents({}) == 2


async def test_only_customers_book(api):
    technician = await api.technician()
    dealer = await api.dealer()
    for caller in (technician, dealer):
        assert_error(await book(api, caller, software_body()), 403)
    assert_error(await api.client.post("/api/repairs", json=software_body()), 401)
