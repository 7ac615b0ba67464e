"""`python -m tools.postman` (`make postman`): postman/collection.json (Postman v2.1) and
postman/environment.json, generated from the app's OpenAPI document.

One folder per tag (an operation sits in the folder of its first tag) with example bodies
from the schemas, bearer auth `{{ACCESS_TOKEN}}` on the collection (public routes send
none), every URL under `{{BASE_URL}}`, and a login request that keeps the token it gets in
`ACCESS_TOKEN`. Before them, the two end-to-end folders of tools/postman_flows.py. The output
depends only on the document: tests/contract/test_postman_files.py keeps the committed files
equal to it.
"""

import json
import re
import sys
from pathlib import Path
from typing import Any

from tools.examples import SchemaExamples
from tools.openapi import openapi_document
from tools.postman_flows import FLOW_PASSWORD, FLOWS, Number, Step

REPO_ROOT = Path(__file__).resolve().parent.parent
POSTMAN_DIR = REPO_ROOT / "postman"
COLLECTION_FILE = POSTMAN_DIR / "collection.json"
ENVIRONMENT_FILE = POSTMAN_DIR / "environment.json"
SCHEMA_URL = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"

BASE_URL = "http://127.0.0.1:8000"
# What the README tells a newcomer to export as BOOTSTRAP_ADMIN_* before `make run`.
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "Sm0ke-Admin-Passw0rd!"
LOGIN = ("post", "/api/auth/login")
METHOD_ORDER = ["get", "post", "put", "patch", "delete"]
IDEMPOTENCY_KEY = "Idempotency-Key"
_NUMBER_MARK = "\u0000number:"
_SET_VARIABLE = re.compile(r"collectionVariables\.set\([\"'](\w+)[\"']")



# --- pieces of the Postman format ---------------------------------------------------------------

def _script(listen: str, lines: list[str]) -> dict[str, Any]:
    return {"listen": listen, "script": {"type": "text/javascript", "exec": lines}}


def _bearer(token: str) -> dict[str, Any]:
    return {"type": "bearer", "bearer": [{"key": "token", "value": token, "type": "string"}]}


NO_AUTH: dict[str, Any] = {"type": "noauth"}


def _url(path: str, query: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    path, _, query_string = path.partition("?")
    if query is None:
        query = [
            {"key": key, "value": value}
            for key, value in (pair.split("=", 1) for pair in query_string.split("&") if pair)
        ]
    raw = "{{BASE_URL}}" + path
    enabled = [f"{item['key']}={item['value']}" for item in query if not item.get("disabled")]
    if enabled:
        raw += "?" + "&".join(enabled)
    url: dict[str, Any] = {"raw": raw, "host": ["{{BASE_URL}}"], "path": path.strip("/").split("/")}
    if query:
        url["query"] = query
    return url


def _json_body(value: Any) -> dict[str, Any]:
    def marked(item: Any) -> Any:
        if isinstance(item, Number):
            return _NUMBER_MARK + item.variable
        if isinstance(item, dict):
            return {key: marked(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [marked(inner) for inner in item]
        return item

    raw = json.dumps(marked(value), indent=2, ensure_ascii=False)
    raw = re.sub(r'"\\u0000number:(\w+)"', r"{{\1}}", raw)
    return {"mode": "raw", "raw": raw, "options": {"raw": {"language": "json"}}}


JSON_HEADER = {"key": "Content-Type", "value": "application/json"}


# --- the tag folders, from the document -----------------------------------------------------------

def _path_template(path: str) -> str:
    """`/api/orders/{orderId}` -> `/api/orders/{{orderId}}` (the seed's sample style)."""
    return re.sub(r"\{(\w+)\}", r"{{\1}}", path)


def _operation_item(
    examples: SchemaExamples, method: str, path: str, operation: dict[str, Any]
) -> dict[str, Any]:
    request: dict[str, Any] = {"method": method.upper()}
    if not operation.get("security"):
        request["auth"] = NO_AUTH
    headers: list[dict[str, Any]] = []
    query: list[dict[str, Any]] = []
    for parameter in operation.get("parameters", []):
        where = parameter["in"]
        if where not in ("query", "header"):
            continue
        value = (
            "{{$guid}}" if parameter["name"] == IDEMPOTENCY_KEY
            else _text(examples.example(parameter.get("schema", {})))
        )
        entry: dict[str, Any] = {"key": parameter["name"], "value": value}
        if not parameter.get("required"):
            entry["disabled"] = True
        if parameter.get("description"):
            entry["description"] = parameter["description"]
        (query if where == "query" else headers).append(entry)
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        headers.insert(0, dict(JSON_HEADER))
        if (method, path) == LOGIN:
            body = {"email": "{{ADMIN_EMAIL}}", "password": "{{ADMIN_PASSWORD}}"}
        else:
            body = examples.example(content["application/json"].get("schema", {}))
        request["body"] = _json_body(body)
    elif "multipart/form-data" in content:
        schema = examples.resolve(content["multipart/form-data"].get("schema", {}))
        request["body"] = {"mode": "formdata", "formdata": [
            {"key": name, "type": "file", "src": []} if prop.get("format") == "binary"
            else {"key": name, "value": _text(examples.example(prop)), "type": "text"}
            for name, prop in schema.get("properties", {}).items()
        ]}
    request["header"] = headers
    request["url"] = _url(_path_template(path), query)
    description = operation.get("description") or operation.get("summary")
    if description:
        request["description"] = description
    item: dict[str, Any] = {"name": operation.get("summary") or f"{method.upper()} {path}",
                            "request": request}
    if (method, path) == LOGIN:
        item["event"] = [_script("test", [
            'pm.test("signed in", function () { pm.response.to.have.status(200); });',
            'pm.environment.set("ACCESS_TOKEN", pm.response.json().data.accessToken);',
        ])]
    return item


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def tag_folders(document: dict[str, Any]) -> list[dict[str, Any]]:
    """One folder per tag, in the document's tag order; requests sorted by path and method."""
    examples = SchemaExamples(document)
    operations: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, path_item in document.get("paths", {}).items():
        for method, operation in path_item.items():
            if method in METHOD_ORDER:
                tag = (operation.get("tags") or ["Other"])[0]
                operations.setdefault(tag, []).append((path, method, operation))
    declared = [tag["name"] for tag in document.get("tags", [])]
    order = [tag for tag in declared if tag in operations]
    order += sorted(tag for tag in operations if tag not in declared)
    descriptions = {tag["name"]: tag.get("description", "") for tag in document.get("tags", [])}
    folders = []
    for tag in order:
        ordered = sorted(operations[tag], key=lambda op: (op[0], METHOD_ORDER.index(op[1])))
        folder: dict[str, Any] = {
            "name": tag,
            "item": [_operation_item(examples, method, path, operation)
                     for path, method, operation in ordered],
        }
        if descriptions.get(tag):
            folder["description"] = descriptions[tag]
        folders.append(folder)
    return folders


# --- the flow folders ---------------------------------------------------------------------------

def _step_tests(step: Step) -> list[str]:
    lines = [
        f'pm.test("{step.name}: {step.status}", function () {{ '
        f"pm.response.to.have.status({step.status}); }});",
        "var body = pm.response.json();",
        "var data = body.data;" if step.enveloped else "var data = body;",
    ]
    for expression, expected in step.checks.items():
        label = json.dumps(f"{expression} is {json.dumps(expected)}")
        lines.append(
            f"pm.test({label}, function () {{ "
            f"pm.expect({expression}).to.eql({json.dumps(expected)}); }});"
        )
    for label, expression in step.asserts.items():
        lines.append(
            f"pm.test({json.dumps(label)}, function () {{ pm.expect({expression}).to.be.true; }});"
        )
    for variable, expression in step.saves.items():
        lines.append(f'pm.collectionVariables.set("{variable}", {expression});')
    return lines


def _step_item(step: Step) -> dict[str, Any]:
    headers = []
    if step.body is not None:
        headers.append(dict(JSON_HEADER))
    if step.idempotency_key:
        headers.append({"key": IDEMPOTENCY_KEY, "value": "{{$guid}}"})
    request: dict[str, Any] = {
        "method": step.method,
        "auth": _bearer(f"{{{{{step.caller}Token}}}}") if step.caller else NO_AUTH,
        "header": headers,
    }
    if step.body is not None:
        request["body"] = _json_body(step.body)
    request["url"] = _url(step.path)
    events = []
    if step.prerequest:
        events.append(_script("prerequest", list(step.prerequest)))
    events.append(_script("test", _step_tests(step)))
    return {"name": step.name, "event": events, "request": request}


def _flow_variables() -> list[str]:
    names: set[str] = set()
    for steps in FLOWS.values():
        for step in steps:
            names.update(step.saves)
            names.update(_SET_VARIABLE.findall("\n".join(step.prerequest)))
    return sorted(names)


def flow_folders() -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "description": f"Runs end to end against a fresh server (accounts: password "
            f"`{FLOW_PASSWORD}`); every run makes its own accounts. Needs ADMIN_EMAIL and "
            "ADMIN_PASSWORD: the server's BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD.",
            "item": [_step_item(step) for step in steps],
        }
        for name, steps in FLOWS.items()
    ]


# --- the files -----------------------------------------------------------------------------------

def collection(document: dict[str, Any]) -> dict[str, Any]:
    info = document.get("info", {})
    return {
        "info": {
            "name": info.get("title", "API"),
            "description": info.get("description", ""),
            "version": info.get("version", ""),
            "schema": SCHEMA_URL,
        },
        "auth": _bearer("{{ACCESS_TOKEN}}"),
        "variable": [{"key": name, "value": "", "type": "string"} for name in _flow_variables()],
        "item": flow_folders() + tag_folders(document),
    }


def environment(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": f"{document.get('info', {}).get('title', 'API')} (local)",
        "values": [
            {"key": "BASE_URL", "value": BASE_URL, "type": "default", "enabled": True},
            {"key": "ADMIN_EMAIL", "value": ADMIN_EMAIL, "type": "default", "enabled": True},
            {"key": "ADMIN_PASSWORD", "value": ADMIN_PASSWORD, "type": "secret", "enabled": True},
            {"key": "ACCESS_TOKEN", "value": "", "type": "secret", "enabled": True},
        ],
        "_postman_variable_scope": "environment",
    }


def _dump(value: dict[str, Any]) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def rendered(document: dict[str, Any]) -> dict[Path, str]:
    """Each file's path and the text the generator writes into it."""
    return {COLLECTION_FILE: _dump(collection(document)),
            ENVIRONMENT_FILE: _dump(environment(document))}


def main() -> None:
    for path, text in rendered(openapi_document()).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"{path.relative_to(REPO_ROOT)}: written", file=sys.stderr)


if __name__ == "__main__":
    main()
