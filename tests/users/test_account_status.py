"""Admins govern account status: approval, suspension, blocks and their override."""

import asyncio
from typing import Any

import pytest

from app.auth.dependencies import require
from app.core.permissions import Actor, Permission
from app.core.schemas import Envelope, ok
from tests.helpers import Account, Api, assert_error, field_errors

ROLE_ACTIONS = {"dealer": Permission.INVENTORY_WRITE, "technician": Permission.LOCATION_UPDATE}


def add_role_action_route(app: Any, role: str) -> str:
    """A route that only an approved account of `role` may call (the permission check)."""
    path = f"/test-only/{role}-action"
    permission = ROLE_ACTIONS[role]

    @app.fastapi.post(path)
    async def act(actor: require(permission)) -> Envelope[dict[str, str]]:  # type: ignore[valid-type]
        assert isinstance(actor, Actor)
        return ok({"actorId": actor.id})

    return path


async def stored_user(mongo_db, user_id: str) -> dict[str, Any]:
    return await mongo_db.users.find_one({"_id": user_id})


@pytest.mark.parametrize("role", ["dealer", "technician"])
async def test_pending_account_cannot_act_in_its_role_until_an_admin_approves_it(
    api: Api, app, client, role: str
):
    path = add_role_action_route(app, role)
    account = await api.login(await api.signup(role))
    admin = await api.admin("ops")

    pending = await client.post(path, headers=account.headers)
    approval = await api.set_status(admin, account.id, "active")
    approved = await client.post(path, headers=account.headers)

    assert "awaiting admin approval" in assert_error(pending, 403)["message"]
    assert approval.status_code == 200, approval.text
    assert approval.json()["data"]["status"] == "active"
    assert approved.status_code == 200 and approved.json()["data"] == {"actorId": account.id}
    [entry] = await api.audited(await api.root_admin(), "user.status_changed", account.id)
    assert entry["actorId"] == admin.id and entry["actorRole"] == "admin"
    assert entry["changes"]["status"] == {"from": "pending", "to": "active"}


async def test_pending_account_can_still_read_its_own_profile(api: Api):
    account = await api.dealer()

    response = await api.me(account)

    assert response.status_code == 200 and response.json()["data"]["status"] == "pending"


async def test_customer_cannot_act_as_a_dealer(api: Api, app, client):
    path = add_role_action_route(app, "dealer")
    customer = await api.customer()

    assert "role does not allow" in assert_error(
        await client.post(path, headers=customer.headers), 403
    )["message"]


async def test_suspended_users_live_token_is_refused_and_refresh_tokens_revoked(
    api: Api, client, mongo_db
):
    customer = await api.customer()
    admin = await api.admin("ops")
    assert (await api.me(customer)).status_code == 200

    response = await client.patch(
        f"/api/users/{customer.id}/status",
        json={"status": "suspended", "reason": "Chargeback fraud investigation"},
        headers={**admin.headers, "X-Request-ID": "suspend-trace-001"},
    )

    assert response.status_code == 200, response.text
    assert response.json()["data"]["status"] == "suspended"
    assert "session has ended" in assert_error(await api.me(customer), 401)["message"]
    refresh = await client.post("/api/auth/refresh", json={"refreshToken": customer.refresh_token})
    assert_error(refresh, 401)
    assert await mongo_db.refresh_tokens.count_documents(
        {"user_id": customer.id, "revoked_at": None}
    ) == 0
    [entry] = await api.audited(await api.root_admin(), "user.status_changed", customer.id)
    assert entry["reason"] == "Chargeback fraud investigation" and entry["override"] is False
    assert entry["changes"]["status"] == {"from": "active", "to": "suspended"}
    assert entry["source"]["traceId"] == "suspend-trace-001"


async def test_blocked_users_live_token_is_refused_and_it_cannot_sign_in_again(api: Api, client):
    customer = await api.customer()
    admin = await api.admin("compliance")

    response = await api.set_status(admin, customer.id, "blocked", "Counterfeit parts resale")

    assert response.status_code == 200, response.text
    assert_error(await api.me(customer), 401)
    login = await client.post(
        "/api/auth/login", json={"email": customer.email, "password": customer.password}
    )
    assert assert_error(login, 403)["message"] == "This account is blocked"


@pytest.mark.parametrize("status", ["suspended", "blocked"])
async def test_suspending_or_blocking_needs_a_reason(api: Api, mongo_db, status: str):
    customer = await api.customer()
    admin = await api.admin("ops")

    response = await api.set_status(admin, customer.id, status)

    assert field_errors(response) == {"body.reason"}
    stored = await stored_user(mongo_db, customer.id)
    assert stored["status"] == "active" and stored["status_reason"] is None
    assert (await api.me(customer)).status_code == 200
    assert await mongo_db.audit_entries.count_documents({"action": "user.status_changed"}) == 0


async def test_blocked_account_is_reinstated_only_as_an_ops_lead_override_with_reason(
    api: Api, client, mongo_db
):
    customer = await api.customer()
    ops = await api.admin("ops")
    lead = await api.admin("ops_lead")
    await api.set_status(ops, customer.id, "blocked", "Repeated payment fraud")

    plain = await api.set_status(lead, customer.id, "active", "Appeal accepted")
    no_reason = await api.set_status(lead, customer.id, "active", override=True)
    by_compliance = await api.set_status(
        await api.admin("compliance"), customer.id, "active", "Appeal accepted", override=True
    )
    by_plain_ops = await api.set_status(ops, customer.id, "active", "Appeal accepted",
                                        override=True)
    assert (await stored_user(mongo_db, customer.id))["status"] == "blocked"
    override = await api.set_status(lead, customer.id, "active", "Appeal accepted", override=True)

    assert "override" in assert_error(plain, 409)["message"]
    assert field_errors(no_reason) == {"body.reason"}
    assert_error(by_compliance, 403)
    assert_error(by_plain_ops, 403)
    assert override.status_code == 200, override.text
    assert override.json()["data"]["status"] == "active"
    assert (await stored_user(mongo_db, customer.id))["status"] == "active"
    auditor = await api.admin("compliance")
    await api.wait_for_audit(auditor, 2, action="user.status_changed", subjectId=customer.id)
    overrides = await api.audit_entries(auditor, override="true")
    assert [(e["subjectId"], e["reason"], e["actorId"]) for e in overrides] == [
        (customer.id, "Appeal accepted", lead.id)
    ]
    assert overrides[0]["changes"]["status"] == {"from": "blocked", "to": "active"}


async def test_override_flag_without_a_rule_to_override_is_refused(api: Api, mongo_db):
    customer = await api.customer()
    ops = await api.admin("ops")

    response = await api.set_status(ops, customer.id, "suspended", "Investigating", override=True)

    assert_error(response, 409)
    assert (await stored_user(mongo_db, customer.id))["status"] == "active"


async def test_illegal_status_move_is_409_and_changes_nothing(api: Api, mongo_db):
    dealer = await api.signup("dealer")
    ops = await api.admin("ops")

    response = await api.set_status(ops, dealer.id, "suspended", "Not yet approved anyway")

    body = assert_error(response, 409)
    assert body["data"]["from"] == "pending"
    assert (await stored_user(mongo_db, dealer.id))["status"] == "pending"


async def test_admin_cannot_change_their_own_status(api: Api, mongo_db):
    root = await api.root_admin()

    response = await api.set_status(root, root.id, "suspended", "Going on holiday")

    assert_error(response, 403)
    assert (await stored_user(mongo_db, root.id))["status"] == "active"


async def test_non_superadmin_cannot_change_an_admin(api: Api, mongo_db):
    ops = await api.admin("ops")
    compliance = await api.admin("compliance")

    response = await api.set_status(ops, compliance.id, "suspended", "Disagreement")

    assert "superadmin" in assert_error(response, 403)["message"]
    assert (await stored_user(mongo_db, compliance.id))["status"] == "active"
    assert (await api.me(compliance)).status_code == 200


async def test_superadmin_can_suspend_an_admin(api: Api):
    root = await api.root_admin()
    ops = await api.admin("ops")

    response = await api.set_status(root, ops.id, "suspended", "Left the company")

    assert response.status_code == 200, response.text
    assert_error(await api.me(ops), 401)


async def test_unknown_user_is_404(api: Api):
    ops = await api.admin("ops")

    response = await api.set_status(ops, "usr_000000000000000000000000", "suspended", "Whatever")

    assert_error(response, 404)


async def test_customer_cannot_change_anyones_status(api: Api, mongo_db):
    customer, victim = await api.customer(), await api.customer()

    response = await api.set_status(customer, victim.id, "blocked", "Because I can")

    assert_error(response, 403)
    assert (await stored_user(mongo_db, victim.id))["status"] == "active"


async def test_finance_admin_cannot_manage_accounts(api: Api, mongo_db):
    customer = await api.customer()
    finance = await api.admin("finance")

    response = await api.set_status(finance, customer.id, "suspended", "Unpaid dues")

    assert_error(response, 403)
    assert (await stored_user(mongo_db, customer.id))["status"] == "active"


async def test_reactivated_account_signs_in_again(api: Api, client):
    customer = await api.customer()
    ops = await api.admin("ops")
    await api.set_status(ops, customer.id, "suspended", "Investigation")

    await api.set_status(ops, customer.id, "active", "Cleared")

    again: Account = await api.login(customer)
    assert (await api.me(again)).status_code == 200


async def test_concurrent_status_changes_on_one_account_let_exactly_one_win(api: Api, mongo_db):
    customer = await api.customer()
    ops, compliance = await api.admin("ops"), await api.admin("compliance")

    responses = await asyncio.gather(
        *(api.set_status(ops, customer.id, "suspended", f"Ops review {n}") for n in range(4)),
        *(api.set_status(compliance, customer.id, "blocked", f"KYC fail {n}") for n in range(4)),
    )

    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) == 1 and sorted({r.status_code for r in responses}) == [200, 409]
    stored = await stored_user(mongo_db, customer.id)
    assert stored["status"] == winners[0].json()["data"]["status"]
    assert stored["status_reason"] == winners[0].json()["data"]["statusReason"]
    changes = await mongo_db.audit_entries.find(
        {"action": "user.status_changed", "subject_id": customer.id}
    ).to_list()
    assert [c["reason"] for c in changes] == [stored["status_reason"]]
