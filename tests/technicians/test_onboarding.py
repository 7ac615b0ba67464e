from tests.dealers.factories import submitted_dealer
from tests.helpers import PASSWORD, Account, assert_error, field_errors, unique_email
from tests.technicians.factories import (
    BANGALORE,
    approve,
    approved_technician,
    nearby,
    send_fix,
    set_available,
    submitted_technician,
    technician_profile,
)

PUBLIC_KEYS = {"id", "name", "skills", "specialities", "bio", "status", "rating", "jobsCompleted"}


async def test_submit_profile_creates_pending_profile_linked_to_account(api, client, mongo_db):
    account, technician = await submitted_technician(api)
    assert technician["status"] == "pending" and technician["id"].startswith("tch_")
    assert technician["skills"] == ["hardware"] and technician["name"] == "A technician"
    assert technician["available"] is False and technician["lastFix"] is None
    assert technician["rating"] == {"average": 0.0, "count": 0, "bayesian": 4.0}
    assert [h["action"] for h in technician["statusHistory"]] == ["submit"]
    user = await mongo_db.users.find_one({"_id": account.id})
    assert user["technician_id"] == technician["id"] and user["status"] == "pending"

    again = await client.post("/api/technicians", json=technician_profile(), headers=account.headers)
    assert_error(again, 409)
    assert await mongo_db.technicians.count_documents({}) == 1
    admin = await api.admin("compliance")
    entries = await api.audited(admin, "technician.profile_submitted", technician["id"])
    assert entries[0]["actorId"] == account.id


async def test_profile_validation_and_who_may_submit(api, client, mongo_db):
    account = await api.technician()
    for body, field in (
        (technician_profile(skills=[]), "body.skills"),
        (technician_profile(skills=["plumbing"]), "body.skills.0"),
        (technician_profile(servicePincodes=[]), "body.servicePincodes"),
        (technician_profile(servicePincodes=["12345"]), "body.servicePincodes.0"),
        (technician_profile(baseLocation={"lat": 91, "lng": 0}), "body.baseLocation.lat"),
        (technician_profile(certifications=[{"name": "Level 2", "issuer": "ESSCI"}]),
         "body.certifications.0.number"),
        ({**technician_profile(), "rating": 5}, "body.rating"),
    ):
        response = await client.post("/api/technicians", json=body, headers=account.headers)
        assert field in field_errors(response), (field, response.text)
    customer = await api.customer()
    forbidden = await client.post("/api/technicians", json=technician_profile(),
                                  headers=customer.headers)
    assert_error(forbidden, 403)
    assert await mongo_db.technicians.count_documents({}) == 0


async def test_who_sees_what_of_a_technician(api, client):
    owner, pending = await submitted_technician(api)
    customer = await api.customer()
    other_account, _ = await approved_technician(api)
    admin = await api.admin("ops")
    url = f"/api/technicians/{pending['id']}"

    assert_error(await client.get(url, headers=customer.headers), 404)
    assert_error(await client.get(url), 401)
    own = await client.get("/api/technicians/me", headers=owner.headers)
    assert own.status_code == 200 and own.json()["data"]["servicePincodes"] == ["560001", "560025"]
    assert (await client.get(url, headers=admin.headers)).json()["data"]["userId"] == owner.id

    await approve(api, pending["id"], admin)
    for viewer in (customer, other_account):
        public = await client.get(url, headers=viewer.headers)
        assert public.status_code == 200
        assert set(public.json()["data"]) == PUBLIC_KEYS
    history = (await client.get(url, headers=owner.headers)).json()["data"]["statusHistory"]
    assert history[-1]["by"] == {"role": "admin"}  # admins' ids are for admins only
    admin_view = (await client.get(url, headers=admin.headers)).json()["data"]
    assert admin_view["statusHistory"][-1]["by"] == admin.id
    assert_error(await client.get("/api/technicians/me", headers=customer.headers), 404)


async def test_owner_edits_profile_but_not_skills(api, client, mongo_db):
    owner, technician = await submitted_technician(api)
    url = f"/api/technicians/{technician['id']}"
    edited = await client.patch(url, json={"bio": "Now also software", "servicePincodes": ["400001"],
                                           "specialities": ["Board-Level"]}, headers=owner.headers)
    assert edited.status_code == 200, edited.text
    data = edited.json()["data"]
    assert data["bio"] == "Now also software" and data["servicePincodes"] == ["400001"]
    assert data["specialities"] == ["board-level"]

    skills = await client.patch(url, json={"skills": ["software"]}, headers=owner.headers)
    assert_error(skills, 403)
    stored = await mongo_db.technicians.find_one({"_id": technician["id"]})
    assert stored["skills"] == ["hardware"] and stored["version"] == 2

    other, _ = await submitted_technician(api)
    assert_error(await client.patch(url, json={"bio": "mine now"}, headers=other.headers), 404)
    customer = await api.customer()
    assert_error(await client.patch(url, json={"bio": "x"}, headers=customer.headers), 403)
    assert_error(await client.patch(url, json={}, headers=owner.headers), 422)
    assert_error(await client.patch(url, json={"specialities": None}, headers=owner.headers), 422)
    finance = await api.admin("finance")
    assert_error(await client.patch(url, json={"skills": ["software"]}, headers=finance.headers),
                 403)

    ops = await api.admin("ops")
    classified = await client.patch(url, json={"skills": ["hardware", "software"]},
                                    headers=ops.headers)
    assert classified.status_code == 200
    assert classified.json()["data"]["skills"] == ["hardware", "software"]
    stored = await mongo_db.technicians.find_one({"_id": technician["id"]})
    assert stored["bio"] == "Now also software" and stored["skills"] == ["hardware", "software"]
    entries = await api.audited(await api.root_admin(), "technician.profile_updated",
                                technician["id"], count=2)
    assert any(e["changes"].get("skills") == {"from": ["hardware"], "to": ["hardware", "software"]}
               for e in entries)


async def test_admin_lists_technicians_for_review(api, client):
    _, hardware = await submitted_technician(api)
    _, software = await submitted_technician(api, skills=["software"])
    _, approved = await approved_technician(api)
    admin = await api.admin("compliance")
    response = await client.get("/api/admin/technicians", params={"status": "pending"},
                                headers=admin.headers)
    assert response.status_code == 200
    assert [t["id"] for t in response.json()["data"]["items"]] == [software["id"], hardware["id"]]
    response = await client.get("/api/admin/technicians",
                                params={"status": "pending", "skill": "software"},
                                headers=admin.headers)
    assert [t["id"] for t in response.json()["data"]["items"]] == [software["id"]]
    customer = await api.customer()
    assert_error(await client.get("/api/admin/technicians", headers=customer.headers), 403)
    _, dealer = await submitted_dealer(api)  # dealers are not in this list
    everyone = await client.get("/api/admin/technicians", headers=admin.headers)
    assert {t["id"] for t in everyone.json()["data"]["items"]} == {
        hardware["id"], software["id"], approved["id"]}


async def test_a_technician_signed_up_without_a_name_sets_it_before_its_profile_and_renames_follow(
    api, client
):
    email = unique_email("technician")
    signed_up = await client.post("/api/auth/signup", json={
        "email": email, "password": PASSWORD, "role": "technician"})
    assert signed_up.status_code == 201, signed_up.text
    account = await api.login(Account(signed_up.json()["data"]["user"]["id"], email, PASSWORD,
                                      "technician"))
    refused = await client.post("/api/technicians", json=technician_profile(),
                                headers=account.headers)
    assert "PATCH /api/users/me" in assert_error(refused, 422)["message"]

    named = await client.patch("/api/users/me", json={"name": "Ravi Kumar"},
                               headers=account.headers)
    assert named.status_code == 200, named.text
    submitted = await client.post("/api/technicians", json=technician_profile(),
                                  headers=account.headers)
    assert submitted.status_code == 201, submitted.text
    technician_id = submitted.json()["data"]["id"]
    assert submitted.json()["data"]["name"] == "Ravi Kumar"
    await approve(api, technician_id)
    assert (await send_fix(api, account, technician_id, *BANGALORE)).status_code == 201
    assert (await set_available(api, account, technician_id)).status_code == 200

    renamed = await client.patch("/api/users/me", json={"name": "Ravi K. Kumar"},
                                 headers=account.headers)
    assert renamed.status_code == 200, renamed.text
    customer = await api.customer()
    profile = await client.get(f"/api/technicians/{technician_id}", headers=customer.headers)
    assert profile.json()["data"]["name"] == "Ravi K. Kumar"
    found = (await nearby(api, customer, *BANGALORE)).json()["data"]["items"]
    assert [(item["technicianId"], item["name"]) for item in found] == [
        (technician_id, "Ravi K. Kumar")]
