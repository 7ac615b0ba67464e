"""The admin user list (filters, cursor pages) and creating further admins."""

from typing import Any

from tests.helpers import PASSWORD, Api, assert_error, field_errors, unique_email


async def list_users(api: Api, admin, **params: Any) -> dict[str, Any]:
    response = await api.client.get("/api/admin/users", params=params, headers=admin.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def ids(page: dict[str, Any]) -> set[str]:
    return {user["id"] for user in page["items"]}


async def test_users_are_filtered_by_role_status_and_pending_approval(api: Api):
    customer = await api.signup("customer")
    business = await api.signup(
        "customer", business={"legalName": "Rao Mobiles", "gstin": "27ABCDE1234F1Z5"}
    )
    dealer = await api.signup("dealer")
    technician = await api.signup("technician")
    admin = await api.admin("ops")

    dealers = await list_users(api, admin, role="dealer")
    pending = await list_users(api, admin, status="pending")
    awaiting = await list_users(api, admin, pendingApproval="true")
    not_awaiting = await list_users(api, admin, pendingApproval="false")
    active_customers = await list_users(api, admin, role="customer", status="active")

    assert ids(dealers) == {dealer.id}
    assert ids(pending) == {dealer.id, technician.id}
    assert ids(awaiting) == {dealer.id, technician.id, business.id}
    assert {customer.id, admin.id} <= ids(not_awaiting)
    assert not ids(not_awaiting) & {dealer.id, technician.id, business.id}
    assert ids(active_customers) == {customer.id, business.id}
    assert all("passwordHash" not in user for user in dealers["items"])


async def test_cursor_pages_walk_every_user_once_newest_first(api: Api):
    created = [await api.signup("customer") for _ in range(7)]
    admin = await api.admin("ops")
    seen: list[str] = []
    cursor = None

    for _ in range(10):
        params = {"role": "customer", "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = await list_users(api, admin, **params)
        assert len(page["items"]) <= 3
        seen += [user["id"] for user in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break

    assert seen == [account.id for account in reversed(created)]


async def test_invalid_cursor_and_limit_are_client_errors(api: Api):
    admin = await api.admin("ops")

    bad_cursor = await api.client.get(
        "/api/admin/users", params={"cursor": "not-a-cursor"}, headers=admin.headers
    )
    too_many = await api.client.get(
        "/api/admin/users", params={"limit": 1000}, headers=admin.headers
    )
    bad_role = await api.client.get(
        "/api/admin/users", params={"role": "wizard"}, headers=admin.headers
    )

    assert_error(bad_cursor, 400)
    assert field_errors(too_many) == {"query.limit"}
    assert field_errors(bad_role) == {"query.role"}


async def test_customer_calling_an_admin_route_is_403(api: Api):
    customer = await api.customer()

    response = await api.client.get("/api/admin/users", headers=customer.headers)

    assert "role does not allow" in assert_error(response, 403)["message"]


async def test_superadmin_creates_an_admin_with_chosen_scopes(api: Api, mongo_db):
    root = await api.root_admin()
    email = unique_email("Finance.Admin")

    response = await api.client.post(
        "/api/admin/users",
        json={"email": email, "password": PASSWORD, "name": "Fin", "scopes": ["finance", "ops"]},
        headers=root.headers,
    )

    assert response.status_code == 201, response.text
    admin = response.json()["data"]
    assert (admin["role"], admin["status"], admin["scopes"]) == ("admin", "active",
                                                                 ["finance", "ops"])
    assert admin["email"] == email.lower()
    login = await api.client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.json()["data"]["user"]["scopes"] == ["finance", "ops"]
    [entry] = await api.audited(root, "admin.created", admin["id"])
    assert entry["actorId"] == root.id
    assert entry["changes"]["scopes"] == {"from": None, "to": ["finance", "ops"]}
    assert await mongo_db.users.count_documents({"role": "admin"}) == 2


async def test_non_superadmin_cannot_create_admins(api: Api, mongo_db):
    ops = await api.admin("ops", "compliance")
    email = unique_email("sneaky")

    response = await api.client.post(
        "/api/admin/users",
        json={"email": email, "password": PASSWORD, "name": "X", "scopes": ["superadmin"]},
        headers=ops.headers,
    )

    assert_error(response, 403)
    assert await mongo_db.users.count_documents({"email": email}) == 0


async def test_admin_creation_validates_scopes_and_password(api: Api, mongo_db):
    root = await api.root_admin()
    email = unique_email("admin")

    unknown_scope = await api.client.post(
        "/api/admin/users",
        json={"email": email, "password": PASSWORD, "name": "X", "scopes": ["god"]},
        headers=root.headers,
    )
    weak = await api.client.post(
        "/api/admin/users",
        json={"email": email, "password": "short", "name": "X", "scopes": ["ops"]},
        headers=root.headers,
    )

    assert field_errors(unknown_scope) == {"body.scopes.0"}
    assert field_errors(weak) == {"body.password"}
    assert await mongo_db.users.count_documents({"email": email}) == 0


async def test_admin_email_must_be_unused(api: Api):
    root = await api.root_admin()
    customer = await api.signup()

    response = await api.client.post(
        "/api/admin/users",
        json={"email": customer.email, "password": PASSWORD, "name": "X", "scopes": ["ops"]},
        headers=root.headers,
    )

    assert_error(response, 409)
