"""Readiness follows the database: 503 envelope within seconds once it stops answering."""

from app.core.config import Settings
from app.core.embedded import EmbeddedMongo
from tests.helpers import assert_error, running_app


async def test_ready_is_503_when_the_database_is_down(config: Settings):
    server = EmbeddedMongo(":memory:").start()
    database = config.database.model_copy(
        update={"mongodb_url": server.url.replace(
            "serverSelectionTimeoutMS=2000", "serverSelectionTimeoutMS=500"
        )}
    )
    try:
        async with running_app(config.model_copy(update={"database": database})) as client:
            assert (await client.get("/ready")).status_code == 200
            server.process.kill()  # type: ignore[union-attr]
            server.process.wait()  # type: ignore[union-attr]

            response = await client.get("/ready")

            body = assert_error(response, 503)
            assert body["data"] == {"status": "unavailable", "database": "down"}
            assert (await client.get("/health")).status_code == 200
    finally:
        server.stop()
