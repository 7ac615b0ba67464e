"""The compliance export: the chained audit entries of a time window, streamed in `seq` order
as JSON Lines (closed by the signed checkpoint that covers them) or CSV."""

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from app.audit import repository
from app.audit.schemas import AuditEntryRead
from app.core.errors import RuleViolation

BATCH = 500


class ExportFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


MEDIA_TYPES = {ExportFormat.JSONL: "application/x-ndjson", ExportFormat.CSV: "text/csv"}
# The CSV columns: every field of an audit list item, in its order; nested ones as JSON.
CSV_COLUMNS = [field.alias or name for name, field in AuditEntryRead.model_fields.items()]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def check_window(since: datetime, until: datetime) -> tuple[datetime, datetime]:
    """The window as UTC instants; 422 unless `from` is before `to`."""
    since, until = _utc(since), _utc(until)
    if since >= until:
        raise RuleViolation("The export window is empty: `from` must be before `to`", {
            "errors": [{"field": "query.to", "message": "must be after `from`"}]})
    return since, until


def filename(since: datetime, until: datetime, form: ExportFormat) -> str:
    stamp = "%Y%m%dT%H%M%SZ"
    return f"audit-{since.strftime(stamp)}-{until.strftime(stamp)}.{form.value}"


def _item(entry: dict[str, Any]) -> dict[str, Any]:
    return AuditEntryRead.model_validate(entry).model_dump(mode="json", by_alias=True)


def _checkpoint_read(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored checkpoint in the shape of the checkpoint file (what its signature covers)."""
    if stored is None:
        return None
    return {"chain": stored.get("chain"), "seq": stored.get("seq"), "hash": stored.get("hash"),
            "at": stored.get("at"), "keyId": stored.get("key_id"),
            "signature": stored.get("signature")}


async def _items(since: datetime, until: datetime) -> AsyncIterator[dict[str, Any]]:
    cursor = repository.sequenced_between(since, until, BATCH)
    try:
        async for entry in cursor:
            yield _item(entry)
    finally:
        await cursor.close()


async def jsonl(since: datetime, until: datetime) -> AsyncIterator[bytes]:
    """One entry a line, then `{"checkpoint": …}`: the first signed checkpoint at or after the
    window's last entry (null while none covers it yet, or when the window holds none)."""
    last_seq: int | None = None
    async for item in _items(since, until):
        last_seq = item["seq"]
        yield _line(item)
    checkpoint = (await repository.first_checkpoint_from(last_seq)
                  if last_seq is not None else None)
    yield _line({"checkpoint": _checkpoint_read(checkpoint)})


def _line(value: dict[str, Any]) -> bytes:
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


async def csv_rows(since: datetime, until: datetime) -> AsyncIterator[bytes]:
    """A header row, then one row an entry."""
    yield _row(CSV_COLUMNS)
    async for item in _items(since, until):
        yield _row([_cell(item[column]) for column in CSV_COLUMNS])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list | bool):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _row(cells: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue().encode()


def stream(since: datetime, until: datetime, form: ExportFormat) -> AsyncIterator[bytes]:
    return jsonl(since, until) if form is ExportFormat.JSONL else csv_rows(since, until)
