"""README tables generated from the code: who may call each route, and every setting.

`python -m app.docs` rewrites those tables in README.md (between their markers); a test
keeps them identical, so the documentation cannot drift from the code.
"""

import re
import sys
from collections.abc import Iterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings
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
        permissions: tuple[Permission, ...] = getattr(call, "permissions", ())
        if permissions:
            return "; or ".join(
                f"`{permission.value}`: " + ", ".join(holders[permission.value])
                for permission in permissions
            )
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


def _env_name(section: type[BaseSettings], name: str, field: FieldInfo) -> str:
    if isinstance(field.validation_alias, str):
        return field.validation_alias
    return f"{section.model_config.get('env_prefix', '')}{name}".upper()


def _default(field: FieldInfo) -> str:
    default = field.get_default(call_default_factory=True)
    if isinstance(default, SecretStr):
        return "a built-in test value (refused in production)"
    if default is None:
        return "unset"
    if isinstance(default, list):
        return "none" if not default else ", ".join(map(str, default))
    return f"`{getattr(default, 'value', default)}`"


def settings_markdown() -> str:
    from app.core.config import Settings

    lines = ["| variable | default | meaning |", "|---|---|---|"]
    sections: list[tuple[type[BaseSettings], str, FieldInfo]] = []
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
            sections += [(annotation, sub, info) for sub, info in annotation.model_fields.items()]
        else:
            sections.append((Settings, name, field))
    for section, name, field in sections:
        meaning = field.description or ""
        lines.append(f"| `{_env_name(section, name, field)}` | {_default(field)} | {meaning} |")
    return "\n".join(lines) + "\n"


def _replace_between(text: str, marker: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {marker}:start -->\n).*?(<!-- {marker}:end -->)", re.S)
    return pattern.sub(lambda match: match.group(1) + body + match.group(2), text)


def rendered_readme(readme: str, app: FastAPI) -> str:
    readme = _replace_between(readme, "routes", markdown(app))
    return _replace_between(readme, "settings", settings_markdown())


if __name__ == "__main__":
    from app.main import create_app

    path = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    path.write_text(rendered_readme(path.read_text(), create_app().fastapi))
    print(f"{path}: route and settings tables regenerated")
