"""The compliance export: the chained entries of a window in `seq` order, as JSON Lines
closed by the checkpoint that covers them, or as CSV; compliance (and the superadmin) only."""

import csv
import io
import json
from datetime import timedelta
from typing import Any

import httpx

from app.audit import tasks as audit_tasks
from app.audit.export import CSV_COLUMNS
from app.core import clock
from app.core.config import Settings
from tests.helpers import Account, Api, assert_error, field_errors

EXPORT = "/api/admin/audit/export"


async def _suspend_customers(api: Api, ops: Account, count: int) -> list[str]:
    suspended = []
    for number in range(count):
        customer = await api.customer()
        response = await api.set_status(ops, customer.id, "suspended", f"Review {number}")
        assert response.status_code == 200, response.text
        suspended.append(customer.id)
    return suspended


async def _export(api: Api, who: Account, since: Any, until: Any, form: str) -> httpx.Response:
    params = {"from": since.isoformat(), "to": until.isoformat(), "format": form}
    return await api.client.get(EXPORT, params=params, headers=who.headers)


def _jsonl(response: httpx.Response) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert 'filename="audit-' in response.headers["content-disposition"]
    lines = [json.loads(line) for line in response.text.splitlines()]
    return lines[:-1], lines[-1]


async def test_jsonl_export_streams_the_window_in_seq_order_then_its_checkpoint(
    api: Api, config: Settings
):
    root = await api.root_admin()
    auditor = await api.admin("compliance")
    early = await _suspend_customers(api, root, 2)
    clock.advance(timedelta(hours=1))
    window_start = clock.utcnow()
    late = await _suspend_customers(api, root, 2)
    await api.sequenced_chain(auditor)
    window_end = clock.utcnow() + timedelta(minutes=1)

    entries, closing = _jsonl(await _export(api, auditor, window_start, window_end, "jsonl"))

    seqs = [entry["seq"] for entry in entries]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    subjects = {e["subjectId"] for e in entries if e["action"] == "user.status_changed"}
    assert subjects == set(late) and not subjects & set(early)
    listed = {item["id"]: item for item in await api.audit_entries(auditor, limit="100")}
    assert entries and all(entry == listed[entry["id"]] for entry in entries)
    assert all(window_start.isoformat()[:19] <= entry["at"][:19] for entry in entries)
    assert closing == {"checkpoint": None}

    checkpoint = await audit_tasks.checkpoint_head(config)
    assert checkpoint is not None and checkpoint["seq"] >= seqs[-1]
    again, closing = _jsonl(await _export(api, auditor, window_start, window_end, "jsonl"))
    assert again == entries
    assert closing == {"checkpoint": checkpoint}

    # The superadmin may export too; a window with no entry closes on null.
    empty, closing = _jsonl(await _export(api, root, window_end + timedelta(days=1),
                                          window_end + timedelta(days=2), "jsonl"))
    assert empty == [] and closing == {"checkpoint": None}


async def test_csv_export_has_a_header_and_one_row_an_entry_for_compliance_only(api: Api):
    ops = await api.admin("ops")
    auditor = await api.admin("compliance")
    start = clock.utcnow() - timedelta(minutes=1)
    suspended = await _suspend_customers(api, ops, 2)
    await api.sequenced_chain(auditor)
    end = clock.utcnow() + timedelta(minutes=1)

    response = await _export(api, auditor, start, end, "csv")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == CSV_COLUMNS
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    listed = {item["id"]: item for item in await api.audit_entries(auditor, limit="100")}
    in_window = [item for item in listed.values() if start.isoformat()[:19] <= item["at"][:19]]
    assert {record["id"] for record in records} == {item["id"] for item in in_window}
    assert [int(record["seq"]) for record in records] == sorted(
        int(record["seq"]) for record in records)
    suspension = next(r for r in records if r["subjectId"] == suspended[0]
                      and r["action"] == "user.status_changed")
    item = listed[suspension["id"]]
    assert json.loads(suspension["changes"]) == item["changes"]
    assert json.loads(suspension["source"]) == item["source"]
    assert suspension["override"] == "false" and suspension["reason"] == "Review 0"
    assert suspension["hash"] == item["hash"] and suspension["actorId"] == ops.id

    # Only compliance (and the superadmin) export; the window and format are checked.
    for outsider in (ops, await api.customer()):
        assert_error(await _export(api, outsider, start, end, "jsonl"), 403)
    assert_error(await api.client.get(EXPORT, params={"from": start.isoformat()}), 401)
    assert "query.format" in field_errors(await _export(api, auditor, start, end, "xml"))
    assert "query.to" in field_errors(await _export(api, auditor, end, start, "jsonl"))
    assert "query.to" in field_errors(await _export(api, auditor, end, end, "csv"))
    missing = await api.client.get(EXPORT, params={"to": end.isoformat()},
                                   headers=auditor.headers)
    assert "query.from" in field_errors(missing)
    bad_time = await api.client.get(EXPORT, params={"from": "yesterday", "to": end.isoformat()},
                                    headers=auditor.headers)
    assert "query.from" in field_errors(bad_time)
