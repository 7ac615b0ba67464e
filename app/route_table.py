"""The role/permission table of every route, generated from the routes themselves.

`python -m app.route_table` prints the Markdown table that the README carries; a test keeps
the two identical, so the documentation cannot drift from the code.
"""

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from app.auth.dependencies import current_actor, optional_actor
from app.core.permissions import Permission, permission_table

PUBLIC = "anyone"
SIGNED_IN = "any signed-in account"


def _calls(dependant: Dependant) -> Iterator[object]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def _who(route: APIRoute, holders: dict[str, list[str]]) -> str:
    calls = list(_calls(route.dependant))
    for call in calls:
        permission: Permission | None = getattr(call, "permission", None)
        if permission is not None:
            return f"`{permission.value}`: " + ", ".join(holders[permission.value])
    if current_actor in calls:
        return SIGNED_IN
    if optional_actor in calls:
        return f"{PUBLIC} (signed-in callers may see more)"
    return PUBLIC


def _api_routes(routes: list[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI >= 0.16x wraps includes
        if included is not None:
            yield from _api_routes(included.routes)
        elif isinstance(route, APIRoute):
            yield route


def route_rows(app: FastAPI) -> list[tuple[str, str, str]]:
    holders = dict(permission_table())
    rows = []
    for route in _api_routes(app.routes):
        if route.include_in_schema:
            for method in sorted(route.methods - {"HEAD"}):
                rows.append((method, route.path, _who(route, holders)))
    return sorted(rows, key=lambda row: (row[1], row[0]))


def markdown(app: FastAPI) -> str:
    lines = ["| method | route | who may call it |", "|---|---|---|"]
    lines += [f"| {method} | `{path}` | {who} |" for method, path, who in route_rows(app)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from app.main import create_app

    print(markdown(create_app().fastapi), end="")
