"""The collection's two end-to-end folders, step by step, as the README's walk-throughs tell
them. Each step names who calls (whose token), what it sends, the status it expects, what it
checks in the answer's `data` and the variables it keeps for the next steps.

`{{…}}` are Postman variables: `ADMIN_EMAIL`, `ADMIN_PASSWORD` and `BASE_URL` come from the
environment, the rest are collection variables set by earlier steps (or by a pre-request
script: each flow invents its own run id, so its emails, GSTIN, SKU and place are new every
run and the flows can run again on the same server). `Number("x")` is `{{x}}` written in
the JSON body without quotes.
"""

from dataclasses import dataclass, field
from typing import Any

FLOW_PASSWORD = "Fl0w-Passw0rd!"


@dataclass(frozen=True)
class Number:
    """A numeric Postman variable in a JSON body."""

    variable: str


@dataclass(frozen=True)
class Step:
    name: str
    method: str
    path: str  # after {{BASE_URL}}; may hold variables and a query string
    status: int
    caller: str | None  # "admin", "dealer", "customer", "technician": {{<caller>Token}}
    body: dict[str, Any] | None = None
    checks: dict[str, Any] = field(default_factory=dict)  # JS expression -> expected value
    asserts: dict[str, str] = field(default_factory=dict)  # what it proves -> JS boolean
    saves: dict[str, str] = field(default_factory=dict)  # variable -> JS expression
    prerequest: tuple[str, ...] = ()
    idempotency_key: bool = False
    enveloped: bool = True  # the answer is {"success", "message", "data", "traceId"}


def _has(items: str, variable: str) -> str:
    """JS: `items` (an array expression) holds an item whose id is the variable's value."""
    return (f'{items}.some(function (item) {{ return item.id === '
            f'pm.collectionVariables.get("{variable}"); }})')


def _is(expression: str, variable: str) -> str:
    return f'{expression} === pm.collectionVariables.get("{variable}")'


def _admin_login(run_variable: str, run_setup: tuple[str, ...]) -> Step:
    return Step(
        "Admin signs in", "POST", "/api/auth/login", 200, None,
        {"email": "{{ADMIN_EMAIL}}", "password": "{{ADMIN_PASSWORD}}"},
        checks={"data.user.role": "admin"}, saves={"adminToken": "data.accessToken"},
        prerequest=(
            "// A new run id: this run's emails, GSTIN, SKU and place are its own.",
            f'pm.collectionVariables.set("{run_variable}", '
            "Date.now().toString(36) + Math.floor(Math.random() * 1e6).toString(36));",
            *run_setup,
        ),
    )


def _signup_and_login(role: str, email: str, name: str) -> list[Step]:
    return [
        Step(f"{role.capitalize()} signs up", "POST", "/api/auth/signup", 201, None,
             {"email": email, "password": FLOW_PASSWORD, "role": role, "name": name},
             checks={"data.user.role": role}),
        Step(f"{role.capitalize()} signs in", "POST", "/api/auth/login", 200, None,
             {"email": email, "password": FLOW_PASSWORD},
             saves={f"{role}Token": "data.accessToken"}),
    ]


def _pay(caller: str, subject: dict[str, Any], payment_variable: str) -> list[Step]:
    """Create the payment, pay in the sandbox's Checkout, verify: the escrow holds it."""
    return [
        Step(f"{caller.capitalize()} pays", "POST", "/api/payments", 201, caller, subject,
             checks={"data.status": "created"},
             saves={payment_variable: "data.id", "gatewayOrderId": "data.gatewayOrderId"},
             idempotency_key=True),
        Step("Checkout in the sandbox", "POST", "/sandbox/razorpay/checkout/{{gatewayOrderId}}",
             200, None, {"outcome": "success"}, enveloped=False,
             saves={"razorpayOrderId": "data.razorpay_order_id",
                    "razorpayPaymentId": "data.razorpay_payment_id",
                    "razorpaySignature": "data.razorpay_signature"}),
        Step(f"{caller.capitalize()} verifies the payment", "POST", "/api/payments/verify", 200,
             caller,
             {"razorpay_order_id": "{{razorpayOrderId}}",
              "razorpay_payment_id": "{{razorpayPaymentId}}",
              "razorpay_signature": "{{razorpaySignature}}"},
             checks={"data.status": "captured", "data.escrowStatus": "held"}),
    ]


PURCHASE_FLOW: list[Step] = [
    _admin_login("purchaseRun", (
        "var letters = '';",
        "for (var i = 0; i < 5; i++) {",
        "  letters += String.fromCharCode(65 + Math.floor(Math.random() * 26));",
        "}",
        "pm.collectionVariables.set('purchaseGstin', "
        "'27' + letters + String(Math.floor(Math.random() * 10000)).padStart(4, '0') + 'A1Z5');",
    )),
    *_signup_and_login("dealer", "dealer-{{purchaseRun}}@example.com", "Spare Hub Traders"),
    Step("Dealer applies", "POST", "/api/dealers", 201, "dealer",
         {"businessName": "Spare Hub Traders", "gstin": "{{purchaseGstin}}",
          "address": {"line1": "12 MG Road", "city": "Pune", "state": "Maharashtra",
                      "pincode": "411001"},
          "contactPhone": "+919812345678"},
         checks={"data.status": "pending"}, saves={"dealerId": "data.id"}),
    Step("Admin approves the dealer", "PATCH", "/api/dealers/{{dealerId}}/status", 200, "admin",
         {"action": "approve"}, checks={"data.status": "approved"}),
    Step("Dealer lists a part", "POST", "/api/products", 201, "dealer",
         {"sku": "IP13-OLED-{{purchaseRun}}", "title": "iPhone 13 OLED display {{purchaseRun}}",
          "brand": "Apple", "category": "display", "compatibleModels": ["iPhone 13"],
          "b2bPrice": 150000, "b2cPrice": 199900, "mrp": 249900, "stock": 10},
         checks={"data.b2cPrice": 199900}, saves={"productId": "data.id"}),
    *_signup_and_login("customer", "buyer-{{purchaseRun}}@example.com", "Asha"),
    Step("Customer browses", "GET", "/api/products?q=oled&dealerId={{dealerId}}", 200,
         "customer", asserts={"the listed part is found": _has("data.items", "productId")}),
    Step("Customer orders", "POST", "/api/orders", 201, "customer",
         {"items": [{"productId": "{{productId}}", "quantity": 1}],
          "deliveryAddress": {"name": "Asha", "phone": "+919876543210", "line1": "4 Residency Rd",
                              "city": "Bengaluru", "state": "Karnataka", "pincode": "560025"}},
         checks={"data.status": "pending_payment"}, saves={"orderId": "data.id"}),
    *_pay("customer", {"orderId": "{{orderId}}"}, "paymentId"),
    Step("Dealer packs", "PATCH", "/api/orders/{{orderId}}/status", 200, "dealer",
         {"action": "pack"}, checks={"data.status": "packed"}),
    Step("Dealer ships", "PATCH", "/api/orders/{{orderId}}/status", 200, "dealer",
         {"action": "ship", "carrier": "BlueDart", "trackingNumber": "BD123"},
         checks={"data.status": "shipped"}),
    Step("Customer confirms delivery", "PATCH", "/api/orders/{{orderId}}/status", 200,
         "customer", {"action": "deliver"}, checks={"data.status": "delivered"}),
    Step("Admin releases the escrow", "PATCH", "/api/payments/{{paymentId}}/release", 200,
         "admin", checks={"data.escrowStatus": "released"}, idempotency_key=True),
    Step("Customer sees the order completed", "GET", "/api/orders/{{orderId}}", 200, "customer",
         checks={"data.status": "completed"}),
]

REPAIR_FLOW: list[Step] = [
    _admin_login("repairRun", (
        "// Somewhere in India no earlier run's technician is near: only this run's is offered",
        "// the job.",
        "var lat = 10 + Math.random() * 16, lng = 74 + Math.random() * 10;",
        "pm.collectionVariables.set('repairLat', lat.toFixed(6));",
        "pm.collectionVariables.set('repairLng', lng.toFixed(6));",
        "pm.collectionVariables.set('technicianLat', (lat + 0.0008).toFixed(6));",
        "pm.collectionVariables.set('technicianLng', (lng + 0.0005).toFixed(6));",
    )),
    *_signup_and_login("technician", "technician-{{repairRun}}@example.com", "Ravi"),
    Step("Technician applies", "POST", "/api/technicians", 201, "technician",
         {"skills": ["hardware"], "specialities": ["display", "battery"],
          "certifications": [{"name": "Mobile Repair Level 2", "issuer": "ESSCI", "number": "C-1"}],
          "servicePincodes": ["560001"],
          "baseLocation": {"lat": Number("technicianLat"), "lng": Number("technicianLng")}},
         checks={"data.status": "pending"}, saves={"technicianId": "data.id"}),
    Step("Admin approves the technician", "PATCH", "/api/technicians/{{technicianId}}/status",
         200, "admin", {"action": "approve"}, checks={"data.status": "approved"}),
    Step("Technician sends a location", "POST", "/api/technicians/{{technicianId}}/location", 201,
         "technician",
         {"lat": Number("technicianLat"), "lng": Number("technicianLng"), "accuracyM": 15,
          "recordedAt": "{{fixRecordedAt}}"},
         prerequest=("pm.collectionVariables.set('fixRecordedAt', new Date().toISOString());",)),
    Step("Technician goes available", "PATCH", "/api/technicians/{{technicianId}}/availability",
         200, "technician", {"available": True}, checks={"data.available": True}),
    *_signup_and_login("customer", "repair-customer-{{repairRun}}@example.com", "Meera"),
    Step("Customer books a repair", "POST", "/api/repairs", 201, "customer",
         {"deviceBrand": "Apple", "deviceModel": "iPhone 13", "imei": "490154203237518",
          "issueType": "hardware", "issueDescription": "Cracked screen, touch not working",
          "mode": "offline", "location": {"lat": Number("repairLat"), "lng": Number("repairLng")},
          "address": {"line1": "12 MG Road", "city": "Bengaluru", "state": "Karnataka",
                      "pincode": "560001"}},
         checks={"data.status": "offered"},
         asserts={"offered to this run's technician": _is("data.offer.technicianId", "technicianId")},
         saves={"repairId": "data.id"}),
    Step("Technician sees the offer", "GET", "/api/technicians/me/offers", 200, "technician",
         asserts={"the booked repair is offered": _has("data.items", "repairId")}),
    Step("Technician accepts", "PATCH", "/api/repairs/{{repairId}}/assignment", 200,
         "technician", {"action": "accept"}, checks={"data.status": "accepted"}),
    Step("Technician starts travelling", "PATCH", "/api/repairs/{{repairId}}/status", 200,
         "technician", {"action": "start_travel"}, checks={"data.status": "en_route"}),
    Step("Technician arrives", "PATCH", "/api/repairs/{{repairId}}/status", 200, "technician",
         {"action": "arrive"}, checks={"data.status": "on_site"}),
    Step("Technician quotes", "POST", "/api/repairs/{{repairId}}/quote", 201, "technician",
         {"lines": [{"description": "OLED display", "kind": "part", "amount": 650000},
                    {"description": "Labour", "kind": "labour", "amount": 50000}]},
         checks={"data.quote.status": "proposed", "data.quote.total": 700000}),
    Step("Customer accepts the quote", "POST", "/api/repairs/{{repairId}}/quote/accept", 200,
         "customer", checks={"data.quote.status": "accepted"}),
    *_pay("customer", {"repairId": "{{repairId}}"}, "repairPaymentId"),
    Step("Technician starts work", "PATCH", "/api/repairs/{{repairId}}/status", 200,
         "technician", {"action": "start"}, checks={"data.status": "in_progress"}),
    Step("Technician completes", "PATCH", "/api/repairs/{{repairId}}/status", 200, "technician",
         {"action": "complete", "resolutionNotes": "Replaced the display"},
         checks={"data.status": "completed"}),
    Step("Customer rates", "POST", "/api/ratings", 201, "customer",
         {"repairId": "{{repairId}}", "score": 5, "comments": "Quick and tidy"},
         checks={"data.score": 5}),
    Step("Technician goes off duty", "PATCH", "/api/technicians/{{technicianId}}/availability",
         200, "technician", {"available": False}, checks={"data.available": False}),
]

FLOWS: dict[str, list[Step]] = {"Purchase flow": PURCHASE_FLOW, "Repair flow": REPAIR_FLOW}
