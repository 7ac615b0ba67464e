"""The nearby search over HTTP: technicians who signed up, were approved, sent fixes and went
available; who may search; what customers see; the query's limits."""

from tests.dealers.factories import approved_dealer
from tests.helpers import assert_error, field_errors
from tests.technicians.factories import nearby, on_duty_technician

HOME = (12.9352, 77.6245)  # Koramangala, Bangalore
KM_NORTH = 1 / 111.2


async def test_customer_finds_nearest_first_with_rounded_positions(api, client):
    ops = await api.admin("ops")
    spots = {"near": (HOME[0] + 0.5 * KM_NORTH, HOME[1] + 0.000123),
             "middle": (HOME[0] + 2 * KM_NORTH, HOME[1] + 0.000456),
             "far": (HOME[0] + 4.5 * KM_NORTH, HOME[1]),
             "outside": (HOME[0] + 6 * KM_NORTH, HOME[1])}
    ids = {}
    for name, spot in spots.items():
        skills = ["software"] if name == "middle" else ["hardware"]
        _, technician = await on_duty_technician(api, *spot, admin=ops, skills=skills)
        ids[name] = technician["id"]
    customer = await api.customer()
    response = await nearby(api, customer, *HOME)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["data"]["nextCursor"] is None
    items = body["data"]["items"]
    assert [i["technicianId"] for i in items] == [ids["near"], ids["middle"], ids["far"]]
    near = items[0]
    assert set(near) == {"technicianId", "name", "skills", "distanceKm", "rating", "position"}
    assert near["distanceKm"] == 0.5 and near["skills"] == ["hardware"]
    assert near["rating"] == {"average": 0.0, "count": 0, "bayesian": 4.0}
    assert near["position"] == {"lat": round(spots["near"][0], 3), "lng": round(spots["near"][1], 3)}

    admin_view = (await nearby(api, ops, *HOME)).json()["data"]["items"]
    assert admin_view[0]["position"] == {"lat": spots["near"][0], "lng": spots["near"][1]}

    software = (await nearby(api, customer, *HOME, skill="software")).json()["data"]["items"]
    assert [i["technicianId"] for i in software] == [ids["middle"]]
    wide = (await nearby(api, customer, *HOME, radiusKm=10, limit=2)).json()["data"]["items"]
    assert [i["technicianId"] for i in wide] == [ids["near"], ids["middle"]]
    wider = (await nearby(api, customer, *HOME, radiusKm=10)).json()["data"]["items"]
    assert wider[-1]["technicianId"] == ids["outside"]


async def test_who_may_search_and_query_limits(api, client):
    dealer, _ = await approved_dealer(api)
    technician = await api.technician()
    for caller in (dealer, technician):
        assert_error(await nearby(api, caller, *HOME), 403)
    assert_error(await client.get("/api/technicians/nearby",
                                  params={"lat": HOME[0], "lng": HOME[1]}), 401)
    customer = await api.customer()
    for params, field in (({"radiusKm": 0}, "query.radiusKm"), ({"radiusKm": 50.01}, "query.radiusKm"),
                          ({"limit": 51}, "query.limit"), ({"limit": 0}, "query.limit"),
                          ({"lat": 90.1}, "query.lat"), ({"lng": 181}, "query.lng"),
                          ({"skill": "plumbing"}, "query.skill")):
        query = {"lat": HOME[0], "lng": HOME[1], **params}
        response = await client.get("/api/technicians/nearby", params=query,
                                    headers=customer.headers)
        assert field in field_errors(response), response.text
    fifty = await nearby(api, customer, *HOME, radiusKm=50, limit=50)
    assert fifty.status_code == 200 and fifty.json()["data"]["items"] == []
