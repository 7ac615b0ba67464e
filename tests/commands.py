"""Counting the database commands of one request (PyMongo command monitoring), asserted the
way Django's `assertNumQueries` asserts queries: a budget per hot route.

A command belongs to the request whose trace id (app/core/context.py) was current when the
driver sent it, so commands of background jobs, of other requests and of the test's own
set-up are never billed to the request measured. tests/conftest.py gives it as `commands`.
"""

from collections import Counter
from dataclasses import dataclass, field

import httpx
from pymongo import monitoring

from app.core.context import current_trace_id

# Sent by the driver on its own (sessions ending, cursors closing), not by the route.
_DRIVER_HOUSEKEEPING = frozenset({"endSessions", "killCursors"})


@dataclass(frozen=True)
class SeenCommand:
    name: str
    target: str  # the collection, or "" for commands on the database or a transaction
    trace_id: str

    def __str__(self) -> str:
        return f"{self.name} {self.target}".strip()


@dataclass
class CommandCounter(monitoring.CommandListener):
    """Every command the app's client sends, with the trace id of the request that sent it."""

    seen: list[SeenCommand] = field(default_factory=list, repr=False)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in _DRIVER_HOUSEKEEPING:
            return
        target = event.command.get(event.command_name)
        self.seen.append(SeenCommand(
            event.command_name, target if isinstance(target, str) else "", current_trace_id()
        ))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    @property
    def attached(self) -> bool:
        """The app's client reports here (it runs commands at start-up, so it has if so)."""
        return bool(self.seen)

    def of(self, response: httpx.Response) -> list[SeenCommand]:
        """The commands of the request that `response` answers (by its X-Request-ID)."""
        assert self.attached, (
            "the `commands` fixture saw no command at all: request it before `api`, `client`, "
            "`app`, `live_server` or `pay`, so that its listener exists when the app's client "
            "is created"
        )
        trace_id = response.headers["x-request-id"]
        return [command for command in self.seen if command.trace_id == trace_id]

    def assert_commands(
        self, response: httpx.Response, *, at_most: int | None = None,
        exactly: list[str] | None = None,
    ) -> list[SeenCommand]:
        """Fail (listing what was sent) unless the request sent at most `at_most` commands, or
        exactly the commands `exactly` names ("find users", "commitTransaction"), in any order."""
        taken = self.of(response)
        listing = "\n  ".join(str(command) for command in taken) or "(none)"
        method, path = response.request.method, response.request.url.path
        if at_most is not None:
            assert len(taken) <= at_most, (
                f"{method} {path} sent {len(taken)} database commands, over its budget of "
                f"{at_most}:\n  {listing}"
            )
        if exactly is not None:
            assert Counter(map(str, taken)) == Counter(exactly), (
                f"{method} {path} sent other database commands than its budget names "
                f"({len(taken)} sent, {len(exactly)} budgeted):\n  {listing}\n"
                f"budget:\n  " + "\n  ".join(exactly)
            )
        return taken
