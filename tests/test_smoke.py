async def test_health(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["data"] == {"status": "up"}


async def test_signup_login_me(api, client):
    account = await api.customer()
    response = await client.get("/api/users/me", headers=account.headers)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["email"] == account.email
