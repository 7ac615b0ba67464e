"""The app's OpenAPI document, as the generators (Postman collection, TypeScript types) read it."""

from typing import Any


def openapi_document() -> dict[str, Any]:
    """Built in this process with fixed settings: no server, no database, and nothing from the
    environment, so every machine generates the same files."""
    from app.core.config import Environment, Settings
    from app.main import create_app

    settings = Settings(app_env=Environment.TEST, log_level="WARNING")
    return create_app(settings).fastapi.openapi()
