"""`parts-platform serve` and `parts-platform create-admin`."""

import argparse
import asyncio
import contextlib
import getpass
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from app.core.config import Settings, get_settings
from app.core.embedded import EmbeddedMongo

RUNNING_FILE = "embedded-db.json"


def _running_file(config: Settings) -> Path:
    return Path(config.database.embedded_db_path).parent / RUNNING_FILE


@contextlib.contextmanager
def database_url(config: Settings) -> Iterator[str]:
    """MONGODB_URL when set; otherwise the embedded server (reused if `serve` already runs it)."""
    if config.database.mongodb_url:
        yield config.database.mongodb_url
        return
    running = _running_file(config)
    if running.exists():
        url = json.loads(running.read_text())["url"]
        if _answers(url):
            yield url
            return
    server = EmbeddedMongo(config.database.embedded_db_path, config.database.embedded_db_port)
    server.start()
    running.parent.mkdir(parents=True, exist_ok=True)
    running.write_text(json.dumps({"url": server.url}))
    try:
        yield server.url
    finally:
        server.stop()
        running.unlink(missing_ok=True)


def _answers(url: str) -> bool:
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    client: MongoClient = MongoClient(url, serverSelectionTimeoutMS=500)
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def serve(config: Settings) -> None:
    import uvicorn

    from app.main import create_app

    with database_url(config) as url:
        config.database.mongodb_url = url
        app = create_app(config)
        print(f"Parts & Repair Platform API on http://{config.host}:{config.port}")
        print(f"Swagger UI: http://{config.host}:{config.port}/docs")
        uvicorn.run(app, host=config.host, port=config.port, log_config=None, access_log=False)


async def _create_admin(config: Settings, email: str, password: str, scopes: list[str]) -> str:
    from app.core.database import Database, set_database
    from app.core.permissions import SYSTEM_ACTOR
    from app.documents import DOCUMENT_MODELS
    from app.users import service as users_service
    from app.users.schemas import AdminCreateIn

    database = Database(config.database.mongodb_url or "", config.database.mongodb_db)
    set_database(database)
    try:
        await database.init_documents(DOCUMENT_MODELS)
        body = AdminCreateIn(email=email, password=password, name="Admin", scopes=scopes)
        user = await users_service.create_admin(SYSTEM_ACTOR, body)
        from app.audit import service as audit_service

        await audit_service.sequence_pending()
        return user.id
    finally:
        await database.close()


def create_admin(config: Settings, args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from app.core.errors import AppError

    password = args.password or getpass.getpass("Password: ")
    scopes = [scope.strip() for scope in args.scopes.split(",") if scope.strip()]
    with database_url(config) as url:
        config.database.mongodb_url = url
        try:
            user_id = asyncio.run(_create_admin(config, args.email, password, scopes))
        except ValidationError as exc:
            print(f"Invalid admin: {exc.errors()[0]['msg']}", file=sys.stderr)
            return 2
        except AppError as exc:
            print(f"Not created: {exc.message}", file=sys.stderr)
            return 1
    print(f"Admin created: {user_id} ({args.email}, scopes: {', '.join(scopes)})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parts-platform")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="Run the API (embedded database unless MONGODB_URL is set)")
    admin = commands.add_parser("create-admin", help="Create an admin account")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", help="Prompted for when omitted")
    admin.add_argument("--scopes", default="superadmin",
                       help="Comma-separated: finance, ops, compliance, superadmin")
    args = parser.parse_args(argv)
    config = get_settings()
    if args.command == "serve":
        serve(config)
        return 0
    return create_admin(config, args)


if __name__ == "__main__":
    sys.exit(main())
