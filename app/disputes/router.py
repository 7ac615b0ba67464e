from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from app.auth.dependencies import CurrentActor, require
from app.core.errors import responses
from app.core.idempotency import IdempotencyKey, run_once
from app.core.pagination import Pagination
from app.core.permissions import Actor, Permission
from app.core.schemas import Envelope, Page, ok
from app.disputes import opening, resolution, service
from app.disputes.models import DisputeStatus
from app.disputes.schemas import DisputeAdminUpdate, DisputeCreate, DisputeNoteIn, DisputeRead
from app.disputes.service import DisputeFilter, DisputeView

router = APIRouter(tags=["Disputes"], responses=responses(401, 403))
DisputeId = Annotated[str, Path(alias="disputeId", max_length=64)]
StatusFilter = Annotated[DisputeStatus | None, Query(description="Only disputes in this status")]
DisputeOpener = require(Permission.DISPUTES_OPEN)
DisputeReader = require(Permission.DISPUTES_READ_ALL)
DisputeManager = require(Permission.DISPUTES_MANAGE)
# Required for notes too: the route has one contract, and a retried note is added once.
IdemKey = Annotated[str, IdempotencyKey]


def _read(view: DisputeView, actor: Actor) -> DisputeRead:
    return DisputeRead.of(view.dispute, view.allowed_actions, actor)


def _page(views: list[DisputeView], next_cursor: str | None, actor: Actor) -> Page[DisputeRead]:
    return Page[DisputeRead](items=[_read(v, actor) for v in views], next_cursor=next_cursor)


@router.post("/api/disputes", status_code=201, responses=responses(404, 409, 422))
async def open_dispute(body: DisputeCreate, actor: DisputeOpener) -> Envelope[DisputeRead]:
    """Dispute your paid order or repair job (`repairId`), until the dispute window after
    delivery (completion) closes; freezes its escrow."""
    view = await opening.open_dispute(actor, body)
    return ok(_read(view, actor), "Dispute opened; the payment is frozen until an admin resolves it")


@router.get("/api/disputes")
async def list_my_disputes(
    actor: CurrentActor, page: Pagination, status: StatusFilter = None
) -> Envelope[Page[DisputeRead]]:
    """Your disputes, newest first: those you opened (buyers) or on your orders (dealers)."""
    views, next_cursor = await service.list_mine(actor, status, page)
    return ok(_page(views, next_cursor, actor))


@router.get("/api/disputes/{disputeId}", responses=responses(404))
async def get_dispute(dispute_id: DisputeId, actor: CurrentActor) -> Envelope[DisputeRead]:
    """One dispute: its buyer, the order's dealer and admins only."""
    return ok(_read(await service.get_visible(actor, dispute_id), actor))


@router.post("/api/disputes/{disputeId}/notes", status_code=201,
             responses=responses(404, 409, 422))
async def add_dispute_note(
    dispute_id: DisputeId, body: DisputeNoteIn, actor: CurrentActor
) -> Envelope[DisputeRead]:
    """Add an evidence note (the buyer, the order's dealer or the repair's technician, or a
    dispute admin; audited)."""
    return ok(_read(await service.add_note(actor, dispute_id, body.text), actor), "Note added")


@router.get("/api/admin/disputes", tags=["Admin"])
async def list_disputes(
    actor: DisputeReader,
    page: Pagination,
    status: StatusFilter = None,
    order_id: Annotated[str | None, Query(alias="orderId", max_length=64)] = None,
    dealer_id: Annotated[str | None, Query(alias="dealerId", max_length=64)] = None,
    buyer_id: Annotated[str | None, Query(alias="buyerId", max_length=64)] = None,
    repair_id: Annotated[str | None, Query(alias="repairId", max_length=64)] = None,
    technician_id: Annotated[str | None, Query(alias="technicianId", max_length=64)] = None,
) -> Envelope[Page[DisputeRead]]:
    """Every dispute, newest first, filtered by status, order, dealer, buyer, repair or
    technician (any admin)."""
    filters = DisputeFilter(status=status, order_id=order_id, dealer_id=dealer_id,
                            buyer_id=buyer_id, repair_id=repair_id, technician_id=technician_id)
    views, next_cursor = await service.list_all(actor, filters, page)
    return ok(_page(views, next_cursor, actor))


AWAITS_APPROVAL = ("Decision recorded as the first approval; the release above the approval "
                   "threshold completes when a finance admin releases the payment")


@router.patch("/api/admin/disputes/{disputeId}", tags=["Admin"],
              response_model=Envelope[DisputeRead],
              responses={**responses(404, 409, 422),
                         202: {"description": "Release above the approval threshold: the "
                                              "decision is its first approval; a finance "
                                              "admin's PATCH /api/payments/{id}/release "
                                              "completes it"}})
async def update_dispute(
    dispute_id: DisputeId, body: DisputeAdminUpdate, actor: DisputeManager,
    key: IdemKey,
) -> Any:
    """Add an admin note `{note}`, or resolve `{resolution, buyerAmount?, note}` (ops; both
    need an Idempotency-Key): refund_buyer, release_to_dealer or split. Decided before delivery
    it is an override (the ops leader's, 403 for others) that closes the order; on an escrow
    released already, the buyer's part is a refund after release."""
    if not body.resolves:
        assert body.note is not None

        async def note() -> tuple[int, Envelope[DisputeRead]]:
            view = await service.add_admin_note(actor, dispute_id, body.note or "")
            return 200, ok(_read(view, actor), "Note added")

        return await run_once(f"disputes.note:{actor.id}:{dispute_id}", key, body, note)

    async def work() -> tuple[int, Envelope[DisputeRead]]:
        view = await resolution.resolve(actor, dispute_id, body)
        if view.dispute.status is DisputeStatus.RESOLVING:
            return 202, ok(_read(view, actor), AWAITS_APPROVAL)
        return 200, ok(_read(view, actor), "Dispute resolved")

    return await run_once(f"disputes.resolve:{actor.id}:{dispute_id}", key, body, work)
