"""The TypeScript client of the web and mobile apps (clients/typescript): its committed types
are what `openapi-typescript` makes of the OpenAPI document now, and its example, compiled by
`tsc`, signs a customer up and in, browses the catalogue and places an order through
openapi-fetch against a live server. Node and npm are required (CI has them): without them
these tests fail."""

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import Api, unique_email
from tests.live import LiveServer
from tests.orders.factories import part, shop
from tools.ts_client import SCHEMA_FILE, generated_schema, installed_tools, typecheck

NODE_TIMEOUT = 60

# Runs the compiled example (ESM beside the installed openapi-fetch); prints its result.
RUN_PURCHASE = """
import { firstPurchase } from "./build/examples/purchase.js";
const [baseUrl, email, password, name] = process.argv.slice(1);
const purchase = await firstPurchase(baseUrl, { email, password, name });
process.stdout.write(JSON.stringify(purchase));
"""


@pytest.fixture(scope="session")
def npm_dir() -> Path:
    """The client's pinned npm packages, installed once into var/npm/ts-client."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{' and '.join(missing)} not installed: the TypeScript client needs Node 20")
    return installed_tools()


@pytest.fixture
def compiled_example(npm_dir: Path) -> Path:
    """The client and its example compiled by tsc into var/npm/ts-client/build."""
    build = npm_dir / "build"
    shutil.rmtree(build, ignore_errors=True)
    typecheck(npm_dir, out_dir=build)
    assert (build / "examples" / "purchase.js").exists()
    return npm_dir


@pytest.fixture
async def live_api(live_server: LiveServer) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as http:
        yield Api(http)


def test_the_committed_types_are_what_the_generator_writes(npm_dir: Path):
    assert generated_schema(npm_dir) == SCHEMA_FILE.read_text(), (
        "clients/typescript/src/schema.d.ts is stale: run `make client`")


async def test_the_typed_client_signs_in_browses_and_places_an_order(
    compiled_example: Path, live_server: LiveServer, live_api: Api, mongo_db
):
    seller = await shop(live_api)
    product = await part(live_api, seller, b2c=60_000, stock=5)
    email = unique_email("ts-client")

    node = await asyncio.create_subprocess_exec(
        "node", "--input-type=module", "--eval", RUN_PURCHASE, live_server.base_url, email,
        "Corr3ct-Horse-Battery", "Asha Rao", cwd=compiled_example,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(node.communicate(), NODE_TIMEOUT)
    finally:
        if node.returncode is None:
            node.kill()
            await node.wait()
    assert node.returncode == 0, err.decode()
    purchase = json.loads(out)

    assert [item["id"] for item in purchase["browsed"]] == [product["id"]]
    order = purchase["order"]
    assert order["buyerId"] == purchase["userId"] and order["dealerId"] == seller.dealer_id
    assert order["status"] == "pending_payment" and order["channel"] == "b2c"
    assert [(item["productId"], item["quantity"], item["unitPrice"]) for item in order["items"]] \
        == [(product["id"], 1, 60_000)]

    user = await mongo_db.users.find_one({"email": email})
    assert user is not None and user["_id"] == purchase["userId"] and user["role"] == "customer"
    stored = await mongo_db.orders.find({}).to_list()
    assert [(doc["_id"], doc["buyer_id"], doc["total"]) for doc in stored] \
        == [(order["id"], purchase["userId"], order["total"])]
    assert stored[0]["items"][0]["product_id"] == product["id"]
