"""The technician's quote: who may give and accept it, when, replacing it, its limits."""

import pytest

from app.repairs.models import QuoteStatus, RepairStatus
from tests.helpers import Api, assert_error, field_errors
from tests.repairs_money.factories import LABOUR, accept, job, quote, stored
from tests.technicians.factories import approved_technician

PART = {"description": "AMOLED display", "kind": "part", "amount": 450_000}


async def test_the_assigned_technician_quotes_and_the_customer_accepts(api: Api):
    work = await job(api, RepairStatus.ON_SITE)

    proposed = await quote(api, work.technician, work.id, LABOUR, PART)

    assert proposed.status_code == 201, proposed.text
    body = proposed.json()
    assert body["success"] is True
    data = body["data"]
    assert data["id"] == work.id and data["technicianId"] == work.technician_id
    assert data["quote"]["total"] == 600_000 and data["quote"]["status"] == "proposed"
    assert [line["kind"] for line in data["quote"]["lines"]] == ["labour", "part"]
    assert data["paymentId"] is None and data["orderIds"] == []
    assert (await stored(work.id)).quote.total == 600_000

    accepted = await accept(api, work.customer, work.id)

    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["data"]["quote"]["status"] == "accepted"
    repair = await stored(work.id)
    assert repair.quote.status is QuoteStatus.ACCEPTED and repair.quote.accepted_at is not None
    admin = await api.root_admin()
    assert await api.audited(admin, "repair.quote_proposed", work.id)
    assert await api.audited(admin, "repair.quote_accepted", work.id)


async def test_a_new_quote_replaces_an_unaccepted_one_and_none_after_acceptance(api: Api):
    work = await job(api)
    assert (await quote(api, work.technician, work.id, LABOUR)).status_code == 201

    replaced = await quote(api, work.technician, work.id, {**LABOUR, "amount": 99_900})

    assert replaced.status_code == 201, replaced.text
    assert replaced.json()["data"]["quote"]["total"] == 99_900
    assert (await accept(api, work.customer, work.id)).status_code == 200

    again = await quote(api, work.technician, work.id, LABOUR)

    assert_error(again, 409)
    assert (await stored(work.id)).quote.total == 99_900
    assert_error(await accept(api, work.customer, work.id), 409)


@pytest.mark.parametrize("status", [RepairStatus.COMPLETED, RepairStatus.CANCELLED])
async def test_no_quote_once_the_job_is_over(api: Api, status: RepairStatus):
    work = await job(api, status)

    assert_error(await quote(api, work.technician, work.id, LABOUR), 409)
    assert (await stored(work.id)).quote is None


async def test_who_may_quote_and_accept(api: Api):
    work = await job(api)
    stranger_technician, _ = await approved_technician(api)
    stranger_customer = await api.customer()

    assert_error(await quote(api, stranger_technician, work.id, LABOUR), 404)
    assert_error(await quote(api, work.customer, work.id, LABOUR), 403)  # not REPAIRS_WORK
    assert_error(await quote(api, await api.root_admin(), work.id, LABOUR), 403)
    assert_error(await quote(api, work.technician, "rep_unknown", LABOUR), 404)
    assert (await stored(work.id)).quote is None

    assert (await quote(api, work.technician, work.id, LABOUR)).status_code == 201
    assert_error(await accept(api, stranger_customer, work.id), 404)
    assert_error(await accept(api, work.technician, work.id), 403)
    assert (await stored(work.id)).quote.status is QuoteStatus.PROPOSED


async def test_accepting_without_a_quote_is_409(api: Api):
    work = await job(api)
    assert_error(await accept(api, work.customer, work.id), 409)


@pytest.mark.settings(repairs={"quote_max_total": 500_000})
async def test_the_total_is_capped(api: Api):
    work = await job(api)

    over = await quote(api, work.technician, work.id, LABOUR, {**PART, "amount": 350_001})

    assert field_errors(over) == {"body.lines"}
    assert (await stored(work.id)).quote is None
    at_cap = await quote(api, work.technician, work.id, LABOUR, {**PART, "amount": 350_000})
    assert at_cap.status_code == 201, at_cap.text


@pytest.mark.parametrize("amount", [0, -100, 1500.5, True, "1500", None])
async def test_amounts_are_positive_integer_paise(api: Api, amount: object):
    work = await job(api)

    response = await quote(api, work.technician, work.id, {**LABOUR, "amount": amount})

    assert "body.lines.0.amount" in field_errors(response)
    assert (await stored(work.id)).quote is None


async def test_a_quote_needs_lines_and_known_kinds(api: Api):
    work = await job(api)
    empty = await api.client.post(f"/api/repairs/{work.id}/quote", json={"lines": []},
                                  headers=work.technician.headers)
    assert_error(empty, 422)
    wrong_kind = await quote(api, work.technician, work.id, {**LABOUR, "kind": "travel"})
    assert_error(wrong_kind, 422)
    extra = await quote(api, work.technician, work.id, {**LABOUR, "tip": 10})
    assert_error(extra, 422)
    assert (await stored(work.id)).quote is None
