"""Catalogue rules (placeholder until the catalogue lands; replaced wholesale by its author)."""

from app.core.database import Session


async def set_dealer_listing_visibility(session: Session | None, dealer_id: str, listed: bool) -> int:
    return 0
