"""The IMEI reveal: the assigned software technician under a live imei_access consent, or a
compliance admin; everyone else refused; every reveal audited without the number."""

from datetime import timedelta

from app.core import clock
from tests.consent.factories import decide, granted_consent, reveal, software_job
from tests.helpers import assert_error
from tests.repairs.factories import VALID_IMEI, accepted_repair, assignment, data_of, get
from tests.technicians.factories import approved_technician


async def test_technician_with_a_granted_consent_sees_the_full_imei_and_it_is_audited(api):
    repair, customer, technician, _ = await software_job(api)
    refused = assert_error(await reveal(api, technician, repair["id"]), 403)
    assert refused["data"]["code"] == "CONSENT_REQUIRED"
    consent = await granted_consent(api, technician, customer, repair["id"], ["imei_access"])

    assert data_of(await reveal(api, technician, repair["id"])) == {"imei": VALID_IMEI}
    entry = (await api.audited(await api.root_admin(), "repair.imei_revealed",
                               repair["id"]))[0]
    assert entry["actorId"] == technician.id and entry["at"]
    assert entry["metadata"]["consentId"] == consent["id"]
    assert VALID_IMEI not in str(entry)
    # Everywhere else the IMEI stays masked.
    shown = data_of(await get(api, technician, repair["id"]))
    assert VALID_IMEI not in str(shown) and str(shown).count(VALID_IMEI[-4:]) >= 1


async def test_no_reveal_without_a_live_consent(api):
    repair, customer, technician, _ = await software_job(api)
    remote_only = await granted_consent(api, technician, customer, repair["id"], ["remote_port"])
    assert assert_error(await reveal(api, technician, repair["id"]),
                        403)["data"]["code"] == "CONSENT_REQUIRED"
    data_of(await decide(api, customer, repair["id"], remote_only["id"], "revoke"))

    consent = await granted_consent(api, technician, customer, repair["id"], ["imei_access"],
                                    duration=5)
    data_of(await reveal(api, technician, repair["id"]))
    clock.advance(timedelta(minutes=6))  # expired, though no timer has run
    assert assert_error(await reveal(api, technician, repair["id"]),
                        403)["data"]["code"] == "CONSENT_REQUIRED"
    assert consent["id"]

    repair2, customer2, technician2, _ = await software_job(api)
    granted = await granted_consent(api, technician2, customer2, repair2["id"], ["imei_access"])
    data_of(await decide(api, customer2, repair2["id"], granted["id"], "revoke"))
    assert assert_error(await reveal(api, technician2, repair2["id"]),
                        403)["data"]["code"] == "CONSENT_REQUIRED"


async def test_everyone_else_is_refused(api):
    repair, customer, technician, _ = await software_job(api)
    await granted_consent(api, technician, customer, repair["id"], ["imei_access"])
    assert_error(await reveal(api, customer, repair["id"]), 403)
    assert_error(await reveal(api, await api.admin("ops"), repair["id"]), 403)
    assert_error(await reveal(api, await api.technician(), repair["id"]), 404)
    assert_error(await reveal(api, await api.dealer(), repair["id"]), 404)
    other, _, other_technician, _ = await software_job(api)
    assert_error(await reveal(api, other_technician, repair["id"]), 404)

    hardware_job, _, hardware_technician, _ = await accepted_repair(api)
    refused = assert_error(await reveal(api, hardware_technician, hardware_job["id"]), 403)
    assert refused["data"]["code"] == "SOFTWARE_SKILL_REQUIRED"
    entries = await api.audit_entries(await api.root_admin(), action="repair.imei_revealed")
    assert entries == []


async def test_compliance_admin_needs_no_consent_and_is_audited(api):
    hardware_job, _, _, _ = await accepted_repair(api)
    compliance = await api.admin("compliance")
    assert data_of(await reveal(api, compliance, hardware_job["id"])) == {"imei": VALID_IMEI}
    entry = (await api.audited(await api.root_admin(), "repair.imei_revealed",
                               hardware_job["id"]))[0]
    assert entry["actorId"] == compliance.id and entry["metadata"]["consentId"] is None
    assert entry["reason"] == "compliance investigation" and VALID_IMEI not in str(entry)


async def test_a_consent_never_passes_to_the_next_technician(api, mongo_db):
    repair, customer, first, _ = await software_job(api)
    await granted_consent(api, first, customer, repair["id"], ["imei_access"])
    lead = await api.admin("ops_lead")  # taking an accepted job away is an override
    successor, profile = await approved_technician(api, lead, skills=["software"])
    data_of(await assignment(api, lead, repair["id"], "reassign", technicianId=profile["id"],
                             reason="The first technician fell ill"))
    data_of(await assignment(api, successor, repair["id"], "accept"))
    refused = assert_error(await reveal(api, successor, repair["id"]), 403)
    assert refused["data"]["code"] == "CONSENT_REQUIRED"
    assert_error(await reveal(api, first, repair["id"]), 404)
