"""The README's walk-through requests, read from README.md and sent as written.

A request is a fenced ```http block: optional `# keep <name> = data.field` lines (what to keep
from its answer), the line `METHOD /path`, header lines `Name: value`, a blank line and the JSON
body (none for a GET or an empty PATCH). `<name>` anywhere in the path, a header or a body
string is a placeholder: a value kept from an earlier answer, or one given up front.

One substitution besides the placeholders, so the walk-through can run on a database that
already holds its accounts: every e-mail address `someone@example.com` written in a body
becomes `someone+<run tag>@example.com` (the same tag for the whole run, so a signup and its
sign-in still match). Placeholders are filled after it, so a given address (the bootstrap
admin's) is sent as given."""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

README = Path(__file__).resolve().parents[2] / "README.md"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PLACEHOLDER = re.compile(r"<[A-Za-z_][^<>\n]*>")
KEEP = re.compile(r"^# keep (<[^<>]+>) = ([A-Za-z_][\w.]*)$")
HEADING = re.compile(r"^(#{1,6}) (.+)$")
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
STEP = re.compile(r"^\s{0,3}(\d+)\. ")
EXAMPLE_EMAIL = re.compile(r"^([^@\s+]+)@example\.com$")


class ReadmeFormatError(AssertionError):
    """The README no longer has the shape these tests read."""


@dataclass
class Request:
    step: int | None
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    keeps: list[tuple[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        where = f"step {self.step}" if self.step is not None else "README"
        return f"{where}: {self.method} {self.path}"


def section(title: str, readme: Path = README) -> list[str]:
    """The lines under the heading `title`, up to the next heading (outside code fences)."""
    lines = readme.read_text(encoding="utf-8").splitlines()
    inside: list[str] | None = None
    in_fence = False
    for line in lines:
        if FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else HEADING.match(line)
        if heading and inside is not None:
            return inside
        if heading and heading.group(2).strip() == title:
            inside = []
        elif inside is not None:
            inside.append(line)
    if inside is None:
        raise ReadmeFormatError(f"README.md has no heading {title!r}")
    return inside


def requests_in(lines: list[str]) -> list[Request]:
    """Every ```http block of these lines, in order, with the number of its list step."""
    found: list[Request] = []
    step: int | None = None
    block: list[str] | None = None
    indent = 0
    for line in lines:
        fence = FENCE.match(line)
        if block is None:
            if fence and fence.group(2) == "http":
                block, indent = [], len(fence.group(1))
            elif numbered := STEP.match(line):
                step = int(numbered.group(1))
        elif fence:
            found.append(_parse(block, step))
            block = None
        else:
            block.append(line[indent:] if line[:indent].strip() == "" else line)
    if block is not None:
        raise ReadmeFormatError("an ```http block is not closed")
    return found


def _parse(lines: list[str], step: int | None) -> Request:
    keeps: list[tuple[str, str]] = []
    rest = list(lines)
    while rest and rest[0].startswith("#"):
        keep = KEEP.match(rest.pop(0).rstrip())
        if keep is None:
            raise ReadmeFormatError(f"step {step}: a '#' line must read '# keep <name> = data.x'")
        keeps.append((keep.group(1), keep.group(2)))
    if not rest or rest[0].split(" ")[0] not in METHODS:
        raise ReadmeFormatError(f"step {step}: a block must start with 'METHOD /path': {lines}")
    method, _, path = rest.pop(0).partition(" ")
    if not path.startswith("/") or " " in path.strip():
        raise ReadmeFormatError(f"step {step}: bad request line {method} {path!r}")
    headers: dict[str, str] = {}
    while rest and rest[0].strip():
        name, colon, value = rest.pop(0).partition(":")
        if not colon or not name.strip() or " " in name.strip():
            raise ReadmeFormatError(f"step {step}: bad header line {name}{colon}{value!r}")
        headers[name.strip()] = value.strip()
    text = "\n".join(rest).strip()
    try:
        body = json.loads(text) if text else None
    except ValueError as error:
        raise ReadmeFormatError(f"step {step}: {method} {path}: the body is not JSON: {error}") from error
    return Request(step, method, path.strip(), headers, body, keeps)


def tag_emails(value: Any, run_tag: str) -> Any:
    """Every `someone@example.com` string of a body as `someone+<run_tag>@example.com`."""
    if isinstance(value, str):
        match = EXAMPLE_EMAIL.match(value)
        return f"{match.group(1)}+{run_tag}@example.com" if match else value
    if isinstance(value, list):
        return [tag_emails(item, run_tag) for item in value]
    if isinstance(value, dict):
        return {key: tag_emails(item, run_tag) for key, item in value.items()}
    return value


def placeholders_of(request: Request) -> set[str]:
    texts = [request.path, *request.headers.values()]

    def strings(value: Any) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list):
            for item in value:
                strings(item)
        elif isinstance(value, dict):
            for item in value.values():
                strings(item)

    strings(request.body)
    return {name for text in texts for name in PLACEHOLDER.findall(text)}


class Walkthrough:
    """Sends README requests in order, keeping what their answers give for later ones."""

    def __init__(self, http: httpx.AsyncClient, values: dict[str, str], run_tag: str,
                 client_ip: str) -> None:
        self.http = http
        self.values = dict(values)
        self.run_tag = run_tag
        self.client_ip = client_ip

    def fill(self, text: str, request: Request) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(0)
            if name not in self.values:
                raise ReadmeFormatError(f"{request} uses {name} before any request keeps it")
            return self.values[name]

        return PLACEHOLDER.sub(value, text)

    def _fill_body(self, value: Any, request: Request) -> Any:
        if isinstance(value, str):
            return self.fill(value, request)
        if isinstance(value, list):
            return [self._fill_body(item, request) for item in value]
        if isinstance(value, dict):
            return {key: self._fill_body(item, request) for key, item in value.items()}
        return value

    async def send(self, request: Request) -> Any:
        """Send it as written (placeholders filled); its JSON answer, which must be 2xx."""
        body = self._fill_body(tag_emails(request.body, self.run_tag), request)
        headers = {name: self.fill(value, request) for name, value in request.headers.items()}
        # The suite plays the reverse proxy, as tests/stories/conftest.py explains.
        headers["X-Forwarded-For"] = self.client_ip
        response = await self.http.request(
            request.method, self.fill(request.path, request), headers=headers,
            **({"json": body} if body is not None else {}),
        )
        assert 200 <= response.status_code < 300, f"{request}: {response.status_code} {response.text}"
        answer = response.json()
        for name, path in request.keeps:
            self.values[name] = str(_at(answer, path, request))
        return answer


def _at(answer: Any, path: str, request: Request) -> Any:
    value = answer
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise AssertionError(f"{request}: its answer has no {path}: {answer}")
        value = value[part]
    return value
