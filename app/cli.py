"""`parts-platform serve` and `parts-platform create-admin`."""

import argparse
import asyncio
import contextlib
import getpass
import json
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.config import Settings, get_settings, use_settings
from app.core.embedded import DatabaseSupervisor, EmbeddedMongo

if TYPE_CHECKING:
    import uvicorn

    from app.users.schemas import AdminCreateIn

RUNNING_FILE = "embedded-db.json"
# In-flight requests get this long after Ctrl-C/SIGTERM before their connections are closed.
SHUTDOWN_GRACE_SECONDS = 5


def _running_file(config: Settings) -> Path:
    return Path(config.database.embedded_db_path).parent / RUNNING_FILE


@contextlib.contextmanager
def embedded_or_url(config: Settings) -> Iterator[tuple[str, EmbeddedMongo | None]]:
    """MONGODB_URL when set; otherwise the embedded server (reused if `serve` already runs
    it). Yields the URL and the server when this process started (and so owns) it."""
    if config.database.mongodb_url:
        yield config.database.mongodb_url, None
        return
    running = _running_file(config)
    if running.exists():
        url = json.loads(running.read_text())["url"]
        if _answers(url):
            yield url, None
            return
    server = EmbeddedMongo(config.database.embedded_db_path, config.database.embedded_db_port)
    server.start()
    running.parent.mkdir(parents=True, exist_ok=True)
    running.write_text(json.dumps({"url": server.url, "pidFile": str(server.pid_path)}))
    try:
        yield server.url, server
    finally:
        server.stop()
        running.unlink(missing_ok=True)


@contextlib.contextmanager
def database_url(config: Settings) -> Iterator[str]:
    with embedded_or_url(config) as (url, _):
        yield url


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


def _exit_on_signal(signum: int, _frame: object) -> None:
    # uvicorn re-raises the signal it shut down on; exiting through SystemExit (rather than
    # the default SIGTERM action) lets the embedded database be stopped on the way out.
    raise SystemExit(128 + signum)


async def _alert_database_deaths(deaths: int, exit_codes: list[int]) -> None:
    from app.alerts import service as alerts_service
    from app.alerts.models import AlertKind

    await alerts_service.raise_alert(
        AlertKind.DATABASE_RESTARTED, "database", "embedded",
        f"The embedded database died {deaths} times within a minute and was restarted",
        {"deaths": deaths, "exitCodes": exit_codes},
    )


async def _serve_supervised(
    server: "uvicorn.Server", database: EmbeddedMongo | None, backoff: float
) -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _exit_on_signal)
    supervisor = task = None
    if database is not None:
        supervisor = DatabaseSupervisor(database, _alert_database_deaths, backoff_initial=backoff)
        task = asyncio.create_task(supervisor.run(), name="embedded-db-supervisor")
    try:
        await server.serve()
    finally:
        if supervisor is not None and task is not None and database is not None:
            supervisor.stop()
            task.cancel()
            database.stop()  # after the app's shutdown, which may still use it


def serve(config: Settings) -> None:
    import uvicorn

    from app.main import create_app

    with embedded_or_url(config) as (url, database):
        config.database.mongodb_url = url
        app = create_app(config, freeze_heap=True)  # a long-lived server process
        print(f"Parts & Repair Platform API on http://{config.host}:{config.port}")
        print(f"Swagger UI: http://{config.host}:{config.port}/docs")
        if database is not None:
            print(f"Embedded database pid {database.pid} (pid file {database.pid_path})")
        # proxy_headers off: uvicorn would otherwise believe X-Forwarded-For from loopback;
        # the app applies TRUSTED_PROXIES itself (app/core/client_ip.py).
        # No per-message deflate: a chat message is a few hundred bytes, and compressing each
        # member's copy of a room-wide event separately was a sixth of the fan-out's CPU.
        server = uvicorn.Server(uvicorn.Config(
            app, host=config.host, port=config.port, log_config=None, access_log=False,
            proxy_headers=False, ws_per_message_deflate=False,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        ))
        with asyncio.Runner(loop_factory=server.config.get_loop_factory()) as runner:
            runner.run(_serve_supervised(
                server, database, config.database.embedded_db_restart_backoff_seconds
            ))


async def _create_admin(config: Settings, body: "AdminCreateIn") -> str:
    from app.audit import tasks as audit_tasks
    from app.core.database import Database, set_database
    from app.core.permissions import SYSTEM_ACTOR
    from app.documents import DOCUMENT_MODELS, RETIRED_INDEXES
    from app.users import service as users_service

    database = Database(config.database.mongodb_url or "", config.database.mongodb_db)
    set_database(database)
    try:
        await database.init_documents(DOCUMENT_MODELS, RETIRED_INDEXES)
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

    if args.password is None and not sys.stdin.isatty():
        print("No terminal to ask for the password: pass --password", file=sys.stderr)
        return 2
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
    admin.add_argument("--password", help="Asked for on the terminal when omitted")
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
