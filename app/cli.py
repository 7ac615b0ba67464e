"""`parts-platform serve` and `parts-platform create-admin`."""

import argparse
import asyncio
import contextlib
import getpass
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.config import Settings, get_settings, use_settings
from app.core.embedded import EmbeddedMongo

if TYPE_CHECKING:
    from app.users.schemas import AdminCreateIn

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
        # proxy_headers off: uvicorn would otherwise believe X-Forwarded-For from loopback;
        # the app applies TRUSTED_PROXIES itself (app/core/client_ip.py).
        uvicorn.run(app, host=config.host, port=config.port, log_config=None, access_log=False,
                    proxy_headers=False)


async def _create_admin(config: Settings, body: "AdminCreateIn") -> str:
    from app.audit import tasks as audit_tasks
    from app.core.database import Database, set_database
    from app.core.permissions import SYSTEM_ACTOR
    from app.documents import DOCUMENT_MODELS
    from app.users import service as users_service

    database = Database(config.database.mongodb_url or "", config.database.mongodb_db)
    set_database(database)
    try:
        await database.init_documents(DOCUMENT_MODELS)
        user = await users_service.create_admin(SYSTEM_ACTOR, body)
        await audit_tasks.sequence_pending()
        return user.id
    finally:
        await database.close()
        set_database(None)


def _admin_body(args: argparse.Namespace) -> "AdminCreateIn":
    """The validated admin, checked before any database is started or touched."""
    from app.users.schemas import AdminCreateIn

    password = args.password or getpass.getpass("Password: ")
    scopes = [scope.strip() for scope in args.scopes.split(",") if scope.strip()]
    return AdminCreateIn(email=args.email, password=password, name=args.name, scopes=scopes)


def create_admin(config: Settings, args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from app.core.errors import AppError

    try:
        body = _admin_body(args)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        print(f"Invalid admin ({field}): {error['msg']}", file=sys.stderr)
        return 2
    with database_url(config) as url:
        config.database.mongodb_url = url
        try:
            user_id = asyncio.run(_create_admin(config, body))
        except AppError as exc:
            print(f"Not created: {exc.message}", file=sys.stderr)
            return 1
    scopes = ", ".join(scope.value for scope in body.scopes)
    print(f"Admin created: {user_id} ({body.email}, scopes: {scopes})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parts-platform")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="Run the API (embedded database unless MONGODB_URL is set)")
    admin = commands.add_parser("create-admin", help="Create an admin account")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", help="Prompted for when omitted")
    admin.add_argument("--name", default="Admin")
    admin.add_argument("--scopes", default="superadmin",
                       help="Comma-separated: finance, ops, compliance, superadmin")
    args = parser.parse_args(argv)
    config = get_settings()
    use_settings(config)
    if args.command == "serve":
        serve(config)
        return 0
    return create_admin(config, args)


if __name__ == "__main__":
    sys.exit(main())
