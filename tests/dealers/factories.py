"""Dealer stories: a dealer account with a submitted (and optionally approved) profile."""

import itertools
import string
from typing import Any

from tests.helpers import Account, Api

_serial = itertools.count(1)


def unique_gstin() -> str:
    n = next(_serial)
    letters = "".join(string.ascii_uppercase[(n // 26**i) % 26] for i in range(5))
    return f"27{letters}{n % 10000:04d}A1Z5"


def dealer_profile(**overrides: Any) -> dict[str, Any]:
    return {
        "businessName": "Spare Hub Traders",
        "gstin": unique_gstin(),
        "pan": "ABCDE1234F",
        "address": {"line1": "12 MG Road", "city": "Pune", "state": "Maharashtra",
                    "pincode": "411001"},
        "contactPhone": "+919812345678",
        "complianceDocs": [{"type": "gst_certificate", "number": "GST-001"}],
        **overrides,
    }


async def submitted_dealer(api: Api, **overrides: Any) -> tuple[Account, dict[str, Any]]:
    account = await api.login(await api.signup("dealer"))
    response = await api.client.post(
        "/api/dealers", json=dealer_profile(**overrides), headers=account.headers
    )
    assert response.status_code == 201, response.text
    return account, response.json()["data"]


async def approved_dealer(api: Api, admin: Account | None = None) -> tuple[Account, dict[str, Any]]:
    account, dealer = await submitted_dealer(api)
    admin = admin or await api.root_admin()
    response = await api.client.patch(
        f"/api/dealers/{dealer['id']}/status", json={"action": "approve"}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    return account, response.json()["data"]
