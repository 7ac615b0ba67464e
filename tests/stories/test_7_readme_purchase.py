"""The README's purchase walk-through, copied as written: every ```http block of "Walk-through:
a purchase, end to end, in Swagger UI" is read from README.md (method, path, headers, JSON
body) and sent in order to the stories' long-lived server, each answering 2xx; then the final
state is checked through the API. The blocks of "If something is wrong instead" run after it
on the same order (a dispute may be opened within the window even after the release, and a
refund after the release is allowed), so they are proved verbatim too.

How the README's values are filled (tests/stories/readme_requests.py):
- `<BOOTSTRAP_ADMIN_EMAIL>` / `<BOOTSTRAP_ADMIN_PASSWORD>`: the server's bootstrap admin;
- every other `<name>`: what an earlier block's `# keep <name> = data.x` line kept from its
  answer (a name used before it is kept fails the test);
- `someone@example.com` in a body: `someone+<run tag>@example.com`, one tag per run.
"""

import uuid

from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, eventually
from tests.stories.people import World
from tests.stories.readme_requests import (
    Request,
    Walkthrough,
    placeholders_of,
    requests_in,
    section,
)

PURCHASE = "Walk-through: a purchase, end to end, in Swagger UI"
INSTEAD = "If something is wrong instead: disputes and refunds"
STEPS = set(range(1, 13))
PUBLIC = {("POST", "/api/auth/login"), ("POST", "/api/auth/signup"), ("GET", "/api/products")}
GIVEN = {"<BOOTSTRAP_ADMIN_EMAIL>": ADMIN_EMAIL, "<BOOTSTRAP_ADMIN_PASSWORD>": ADMIN_PASSWORD}


def _one(requests: list[Request], method: str, path: str) -> Request:
    matching = [r for r in requests if r.method == method and r.path == path]
    assert len(matching) == 1, f"README: expected one {method} {path}, found {len(matching)}"
    return matching[0]


def _check_shape(purchase: list[Request], instead: list[Request]) -> None:
    """Fail loudly when the README's walk-through lost steps or the issue's missing pieces."""
    assert {r.step for r in purchase} == STEPS, sorted({r.step or 0 for r in purchase})
    assert len(purchase) >= 30 and len(instead) == 3, (len(purchase), len(instead))
    admins = [r for r in purchase if (r.method, r.path) == ("POST", "/api/admin/users")]
    assert admins and all(set(r.body) == {"email", "password", "name", "scopes"} for r in admins)
    dealer = _one(purchase, "POST", "/api/dealers").body
    assert {"line1", "line2", "city", "state", "pincode"} == set(dealer["address"])
    for keyed in (_one(purchase, "POST", "/api/payments"),
                  _one(purchase, "PATCH", "/api/payments/<paymentId>/release"),
                  _one(purchase, "POST", "/api/payouts"),
                  _one(instead, "POST", "/api/payments/<paymentId>/refunds"),
                  _one(instead, "PATCH", "/api/admin/disputes/<disputeId>")):
        assert keyed.headers.get("Idempotency-Key"), f"{keyed} shows no Idempotency-Key"
    assert set(_one(instead, "POST", "/api/payments/<paymentId>/refunds").body) == {"amount", "reason"}
    kept = set(GIVEN) | {name for r in purchase + instead for name, _ in r.keeps}
    for request in purchase + instead:
        assert placeholders_of(request) <= kept, f"{request}: {placeholders_of(request) - kept}"
        route = (request.method, request.path.partition("?")[0])
        if route[1].startswith("/api/") and route not in PUBLIC:
            assert request.headers.get("Authorization", "").startswith("Bearer <accessToken of ")


async def test_the_readme_purchase_runs_as_written(world: World):
    purchase, instead = requests_in(section(PURCHASE)), requests_in(section(INSTEAD))
    _check_shape(purchase, instead)
    run = Walkthrough(world.http, GIVEN, run_tag=uuid.uuid4().hex[:10], client_ip="10.254.0.16")
    for request in purchase:
        await run.send(request)

    value = run.values
    as_customer = {"Authorization": f"Bearer {value['<accessToken of the customer>']}"}
    as_dealer = {"Authorization": f"Bearer {value['<accessToken of the dealer>']}"}
    as_finance = {"Authorization": f"Bearer {value['<accessToken of the finance admin>']}"}

    async def get(path: str, headers: dict[str, str]) -> dict:
        response = await world.http.get(path, headers={**headers, "X-Forwarded-For": run.client_ip})
        assert response.status_code == 200, response.text
        return response.json()["data"]

    order = await get(f"/api/orders/{value['<orderId>']}", as_customer)
    assert order["status"] == "completed" and order["dealerId"] == value["<dealerId>"]
    payment = await get(f"/api/payments/{value['<paymentId>']}", as_finance)
    assert payment["escrowStatus"] == "released" and payment["amountReleased"] == order["total"]
    share = payment["commissionBreakdown"]["dealerShare"]
    payout = await eventually(lambda: get(f"/api/payouts/{value['<payoutId>']}", as_dealer),
                              lambda p: p["status"] in ("paid", "failed"))
    assert payout["status"] == "paid" and payout["amount"] == share, payout
    balance = await get(f"/api/payouts/balance?recipientId={value['<dealerId>']}", as_dealer)
    assert (balance["payable"], balance["paidOut"]) == (0, share), balance
    assert (balance["pendingEscrow"], balance["inTransit"]) == (0, 0), balance
    assert (await get("/api/admin/ledger/verify", as_finance))["valid"] is True

    # The "instead" section's dispute, its resolution and a direct refund, on the same order.
    for request in instead:
        await run.send(request)
    refunded = await get(f"/api/payments/{value['<paymentId>']}", as_finance)
    assert refunded["amountRefunded"] > 0, refunded
    ledger = await eventually(lambda: get("/api/admin/ledger/verify", as_finance),
                              lambda report: report["valid"] is True)
    assert ledger["valid"] is True
