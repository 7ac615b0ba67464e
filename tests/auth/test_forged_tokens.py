"""A server with its own strong JWT_SECRET refuses tokens signed with the placeholder that
was published in this repository (production settings refuse that placeholder outright:
tests/core/test_production_settings.py)."""

import jwt
import pytest
from pydantic import SecretStr

from app.core.config import DEFAULT_JWT_SECRET
from tests.helpers import Api, assert_error

STRONG_SECRET = "k3B9-wq_Zt7pL0xVn2Rf8sYh4Jd6Mc1Ea5Gu9Io3Pb7Tx0Ky2Ns"


@pytest.mark.settings(auth={"jwt_secret": SecretStr(STRONG_SECRET)})
async def test_a_token_signed_with_the_published_placeholder_secret_is_refused(api: Api, client):
    account = await api.customer()
    claims = jwt.decode(account.token, STRONG_SECRET, algorithms=["HS256"])
    escalated = {**claims, "role": "admin", "scopes": ["superadmin"]}

    for forged_claims, path in ((claims, "/api/users/me"), (escalated, "/api/admin/users")):
        forged = jwt.encode(forged_claims, DEFAULT_JWT_SECRET, algorithm="HS256")
        response = await client.get(path, headers={"Authorization": f"Bearer {forged}"})
        assert assert_error(response, 401)["message"] == "Invalid or expired access token"

    # The very same claims under the server's own key are accepted: only the key differs.
    genuine = jwt.encode(claims, STRONG_SECRET, algorithm="HS256")
    me = await client.get("/api/users/me", headers={"Authorization": f"Bearer {genuine}"})
    assert me.status_code == 200 and me.json()["data"]["id"] == account.id
