"""HTTP only: parse the request, call the service, return the schema. No queries, no rules."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.auth.dependencies import CurrentActor, require
from app.core.errors import responses
from app.core.pagination import Pagination
from app.core.permissions import Actor, Permission
from app.core.schemas import Envelope, Page, ok
from app.core.validators import IsoDatetime
from app.repairs import assignment, booking, lifecycle, service
from app.repairs.models import IssueType, RepairStatus
from app.repairs.repository import RepairFilter
from app.repairs.schemas import AssignmentIn, RepairCreate, RepairRead, RepairStatusIn
from app.repairs.service import RepairPage

router = APIRouter(tags=["Repairs"], responses=responses(401, 403))
RepairId = Annotated[str, Path(alias="repairId", max_length=64)]
StatusFilter = Annotated[RepairStatus | None, Query(description="Only repairs in this status")]
Customer = require(Permission.REPAIRS_BOOK)
Technician = require(Permission.REPAIRS_WORK)
RepairReader = require(Permission.REPAIRS_READ_ALL)


def _page(page: RepairPage, actor: Actor) -> Page[RepairRead]:
    return Page[RepairRead](items=[service.read_model(r, actor) for r in page.items],
                            next_cursor=page.next_cursor)


@router.post("/api/repairs", status_code=201, responses=responses(422))
async def book_repair(body: RepairCreate, actor: Customer) -> Envelope[RepairRead]:
    """Book a repair (an active customer). Hardware repairs are offline only (422
    `MODE_NOT_ALLOWED`) and are offered at once to the best nearby technician, so the answer
    shows `offered` or `unassigned`; software repairs wait in `awaiting_assignment` for an
    admin. `imei` (15 digits, Luhn: else 422 `INVALID_IMEI`) is stored encrypted and shown
    masked; `scheduledAt` is 30 minutes to 14 days ahead."""
    repair = await booking.book(actor, body)
    return ok(service.read_model(repair, actor), f"Repair booked: {repair.status.value}")


@router.get("/api/repairs")
async def list_my_repairs(
    actor: CurrentActor, page: Pagination, status: StatusFilter = None
) -> Envelope[Page[RepairRead]]:
    """The caller's repairs, newest first: a customer's bookings, a technician's accepted jobs."""
    return ok(_page(await service.list_mine(actor, status, page), actor))


@router.get("/api/technicians/me/offers", tags=["Technicians"])
async def my_offers(actor: Technician) -> Envelope[Page[RepairRead]]:
    """The repairs offered to the calling technician that it may still accept (soonest
    expiry first; `offer.expiresAt` says until when)."""
    repairs = await service.offers_waiting(actor)
    return ok(Page[RepairRead](items=[service.read_model(r, actor) for r in repairs]))


@router.get("/api/repairs/{repairId}", responses=responses(404))
async def get_repair(repair_id: RepairId, actor: CurrentActor) -> Envelope[RepairRead]:
    """One repair: for its customer, its technician (or the one it is offered to), admins."""
    return ok(service.read_model(await service.visible_repair(actor, repair_id), actor))


@router.patch("/api/repairs/{repairId}/assignment", responses=responses(404, 409, 422))
async def change_assignment(
    repair_id: RepairId, body: AssignmentIn, actor: CurrentActor
) -> Envelope[RepairRead]:
    """accept / decline (the offered technician; a decline offers the next candidate at once),
    assign / reassign (admins with ops; `technicianId` needed, reassign with a `reason`,
    until `in_progress`). A software repair goes only to a technician with the `software` skill
    (422 `SKILL_MISMATCH`). Of an accept racing the expiry, a decline or a reassign, one wins."""
    repair = await assignment.change_assignment(actor, repair_id, body)
    return ok(service.read_model(repair, actor), f"Repair is now {repair.status.value}")


@router.patch("/api/repairs/{repairId}/status", responses=responses(404, 409, 422))
async def change_status(
    repair_id: RepairId, body: RepairStatusIn, actor: CurrentActor
) -> Envelope[RepairRead]:
    """start_travel → arrive → start → complete (the technician; online jobs go straight to
    start; complete needs `resolutionNotes`), cancel (the customer before in_progress, with
    the REPAIR_CANCELLATION_FEE after acceptance; the technician with a reason: the job is
    re-matched; admins with ops, with a reason, until completed). Not a participant: 404;
    a role that never takes the action: 403; illegal in the current state: 409."""
    repair = await lifecycle.change_status(actor, repair_id, body)
    return ok(service.read_model(repair, actor), f"Repair is now {repair.status.value}")


@router.get("/api/admin/repairs", tags=["Admin"])
async def list_all_repairs(
    actor: RepairReader,
    page: Pagination,
    status: StatusFilter = None,
    issue_type: Annotated[IssueType | None, Query(alias="issueType")] = None,
    technician_id: Annotated[str | None, Query(alias="technicianId", max_length=64)] = None,
    customer_id: Annotated[str | None, Query(alias="customerId", max_length=64)] = None,
    since: Annotated[IsoDatetime | None, Query(alias="from", description="Booked at or after")] = None,
    until: Annotated[IsoDatetime | None, Query(alias="to", description="Booked before")] = None,
) -> Envelope[Page[RepairRead]]:
    """Every repair, newest first; filter by status, issue type, technician, customer, dates."""
    filters = RepairFilter(status=status, issue_type=issue_type, technician_id=technician_id,
                           customer_id=customer_id, since=since, until=until)
    return ok(_page(await service.list_all(actor, filters, page), actor))
