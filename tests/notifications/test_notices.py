"""Each state change a user must learn about notifies that user exactly once, in the change's
transaction: approvals and rejections, repair offers, consent requests and missed calls."""

from datetime import timedelta

import pytest

from app.calls import tasks as call_tasks
from app.core import clock
from tests.calls.factories import started
from tests.consent.factories import consent_body, request_consent, software_job
from tests.dealers.factories import approved_dealer
from tests.notifications.helpers import kinds_of, the_one
from tests.technicians.factories import submitted_technician
from tests.users.test_business_verification import BUSINESS, review

pytestmark = pytest.mark.settings(background_tasks_enabled=False)


async def test_admin_decisions_notify_the_applicant_once(api, mongo_db):
    ops = await api.admin("ops")
    dealer, profile = await approved_dealer(api, ops)
    approved, approved_profile = await submitted_technician(api)
    rejected, rejected_profile = await submitted_technician(api)
    for technician, action in ((approved_profile, "approve"), (rejected_profile, "reject")):
        response = await api.client.patch(
            f"/api/technicians/{technician['id']}/status",
            json={"action": action, "reason": "Certificates could not be verified"},
            headers=ops.headers)
        assert response.status_code == 200, response.text
    business = await api.customer(business=BUSINESS)
    assert (await review(api, ops, business.id, action="reject",
                         reason="GSTIN does not match")).status_code == 200
    assert (await review(api, ops, business.id, action="verify")).status_code == 200

    note = await the_one(api, mongo_db, dealer, "dealer_approved", profile["id"])
    assert (note["subjectType"], note["readAt"]) == ("dealer", None)
    await the_one(api, mongo_db, approved, "technician_approved", approved_profile["id"])
    assert await kinds_of(mongo_db, rejected.id) == ["technician_rejected"]
    stored = await mongo_db.notifications.find_one({"user_id": rejected.id})
    assert stored["message"].endswith("Certificates could not be verified")
    refused = await the_one(api, mongo_db, business, "business_rejected", business.id)
    assert "GSTIN does not match" in refused["message"]
    await the_one(api, mongo_db, business, "business_verified", business.id)
    # Nobody else heard of it; a refused move (approving twice) notifies nothing more.
    assert await kinds_of(mongo_db, ops.id) == []
    again = await api.client.patch(f"/api/dealers/{profile['id']}/status",
                                   json={"action": "approve"}, headers=ops.headers)
    assert again.status_code == 409
    assert await kinds_of(mongo_db, dealer.id) == ["dealer_approved"]


async def test_offer_consent_and_missed_call_notify_their_parties_once(api, mongo_db):
    repair, customer, technician, profile = await software_job(api)
    offered = await the_one(api, mongo_db, technician, "repair_offer", repair["id"])
    assert "software" in offered["message"]

    response = await request_consent(api, technician, repair["id"], **consent_body())
    assert response.status_code == 201, response.text
    asked = await the_one(api, mongo_db, customer, "consent_requested", repair["id"])
    assert profile["name"] in asked["message"]

    call = await started(api, technician, repair["id"])
    clock.advance(timedelta(seconds=46))
    await call_tasks.miss_unanswered_calls()
    await call_tasks.miss_unanswered_calls()  # a rerun moves and notifies nothing

    for party in (customer, technician):
        await the_one(api, mongo_db, party, "call_missed", call["id"])
    assert await kinds_of(mongo_db, customer.id) == ["call_missed", "consent_requested"]
    assert await kinds_of(mongo_db, technician.id) == [
        "call_missed", "repair_offer", "technician_approved"]
