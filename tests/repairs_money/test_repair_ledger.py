"""The ledger verifier covers repairs: a repair's escrow is checked like an order's, and a
release must pay its payment's payee (the technician), never another recipient."""

from app.core.database import transaction
from app.core.permissions import SYSTEM_ACTOR
from app.payments.ledger import accounts
from app.payments.ledger import service as ledger
from app.repairs.models import RepairStatus
from tests.payments.factories import Payments
from tests.repairs_money.factories import complete, job, paid, quoted_and_accepted


async def _verify(pay: Payments) -> dict:
    finance = await pay.finance()
    response = await pay.client.get("/api/admin/ledger/verify", headers=finance.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_a_release_to_anyone_but_the_technician_is_a_violation(pay: Payments):
    work = await job(pay.api, RepairStatus.IN_PROGRESS)
    await quoted_and_accepted(pay.api, work)
    payment = await paid(pay, work)
    await complete(work.id)
    report = await _verify(pay)
    assert report["valid"] and "releases_paid_to_payee" in report["checks"]

    async def misdirected(session):  # type: ignore[no-untyped-def]
        return await ledger.post(
            session, key=f"release:{payment['id']}", kind="release", actor=SYSTEM_ACTOR,
            transfers=[ledger.Transfer(accounts.escrow(payment["id"]),
                                       accounts.payable("dlr_someone_else"), payment["amount"])],
            payment_id=payment["id"], recipient_id="dlr_someone_else",
        )

    await transaction(misdirected)

    report = await _verify(pay)
    assert report["valid"] is False
    rules = {v["rule"] for v in report["violations"]}
    assert "release_not_to_payee" in rules and "escrow_mismatch" in rules
    wrong = next(v for v in report["violations"] if v["rule"] == "release_not_to_payee")
    assert wrong["payeeId"] == work.technician_id
    assert wrong["credited"] == [accounts.payable("dlr_someone_else")]
