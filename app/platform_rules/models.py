"""Beanie documents of the platform rules: one versioned document per rule set."""

from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import Field

from app.core import clock


class PlatformRule(Document):
    """One named rule set (`pricing`, `commission`), versioned; absent means the defaults."""

    id: str
    rules: dict[str, Any]
    version: int = 1
    updated_by: str | None = None
    updated_at: datetime = Field(default_factory=clock.utcnow)

    class Settings:
        name = "platform_rules"


DOCUMENTS: list[type] = [PlatformRule]
