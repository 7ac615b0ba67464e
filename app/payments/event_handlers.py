"""Gateway events that other domains own: payments receives every signed Razorpay event on one
route and hands those of a registered entity (payouts registers `payout`) to its handler, so
payments imports none of the domains that build on it."""

from collections.abc import Awaitable, Callable
from typing import Any

# (event name, the event's `payload`) -> what happened, recorded with the event id.
EventHandler = Callable[[str, dict[str, Any]], Awaitable[str]]
_handlers: dict[str, EventHandler] = {}


def register_event_handler(entity: str, handler: EventHandler) -> None:
    """Send every `<entity>.*` event to `handler`."""
    _handlers[entity] = handler


def handler_for(event: str) -> EventHandler | None:
    return _handlers.get(event.partition(".")[0])
