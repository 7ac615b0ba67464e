from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.auth.dependencies import CurrentActor, require
from app.core.errors import responses
from app.core.pagination import Pagination
from app.core.permissions import Actor, Permission
from app.core.schemas import Envelope, Page, ok
from app.core.validators import IsoDatetime
from app.dealers.models import DealerStatus
from app.orders import checkout, lifecycle, queries, review
from app.orders.models import Channel, OrderStatus
from app.orders.parties import OrderView
from app.orders.repository import OrderFilter
from app.orders.schemas import OrderCreate, OrderQuote, OrderRead, OrderStatusIn
from app.risk.schemas import ReviewDecision

router = APIRouter(tags=["Orders"], responses=responses(401, 403))
OrderId = Annotated[str, Path(alias="orderId", max_length=64)]
DealerId = Annotated[str, Path(alias="dealerId", max_length=64)]
StatusFilter = Annotated[OrderStatus | None, Query(description="Only orders in this status")]
Buyer = require(Permission.ORDERS_PLACE)
OrderReader = require(Permission.ORDERS_READ_ALL)
RiskReviewer = require(Permission.RISK_REVIEW)


def _page(views: list[OrderView], next_cursor: str | None, actor: Actor) -> Page[OrderRead]:
    items = [OrderRead.of(view.order, view.allowed_actions, actor) for view in views]
    return Page[OrderRead](items=items, next_cursor=next_cursor)


@router.post(
    "/api/orders",
    status_code=201,
    responses={
        200: {"model": Envelope[OrderQuote], "description": "dryRun=true: the priced quote"},
        **responses(422),
    },
)
async def place_order(
    body: OrderCreate,
    actor: Buyer,
    response: Response,
    dry_run: Annotated[bool, Query(alias="dryRun", description="Quote only; save nothing")] = False,
) -> Envelope[OrderRead | OrderQuote]:
    """Place an order (stock reserved, awaiting payment), or with dryRun=true only price it."""
    result = await checkout.place_order(actor, body, dry_run=dry_run)
    if isinstance(result, OrderView):
        order = OrderRead.of(result.order, result.allowed_actions, actor)
        if result.order.status is OrderStatus.ON_REVIEW:
            return ok(order, "Order placed; on review before it can be paid")
        return ok(order, "Order placed; awaiting payment")
    response.status_code = 200
    return ok(OrderQuote.of(result), "Quote: the order passes every rule")


@router.get("/api/orders")
async def list_my_orders(
    actor: CurrentActor, page: Pagination, status: StatusFilter = None
) -> Envelope[Page[OrderRead]]:
    """The caller's orders, newest first: placed (buyers) or received (dealers)."""
    views, next_cursor = await queries.list_mine(actor, status, page)
    return ok(_page(views, next_cursor, actor))


@router.get("/api/orders/{orderId}", responses=responses(404))
async def get_order(order_id: OrderId, actor: CurrentActor) -> Envelope[OrderRead]:
    """One order: for its buyer, its dealer and admins."""
    view = await queries.get_visible(actor, order_id)
    return ok(OrderRead.of(view.order, view.allowed_actions, actor))


@router.post("/api/orders/{orderId}/validate", responses=responses(404, 409, 422))
async def validate_order(order_id: OrderId, actor: CurrentActor) -> Envelope[OrderQuote]:
    """Re-check a pending order against current prices, stock, dealer and product status."""
    quote = await checkout.validate_order(actor, order_id)
    return ok(OrderQuote.of(quote, order_id), "The order passes every rule")


@router.patch("/api/orders/{orderId}/status", responses=responses(404, 409, 422))
async def change_status(
    order_id: OrderId, body: OrderStatusIn, actor: CurrentActor
) -> Envelope[OrderRead]:
    """pack / ship (dealer), deliver (buyer, or ops_lead override), cancel before shipping."""
    view = await lifecycle.change_status(actor, order_id, body)
    return ok(OrderRead.of(view.order, view.allowed_actions, actor), f"Order is now {view.order.status}")


@router.get("/api/dealers/{dealerId}/orders", tags=["Dealers"], responses=responses(404))
async def list_dealer_orders(
    dealer_id: DealerId, actor: CurrentActor, page: Pagination, status: StatusFilter = None
) -> Envelope[Page[OrderRead]]:
    """Orders received by a dealer, newest first (that dealer or admins)."""
    views, next_cursor = await queries.list_for_dealer(actor, dealer_id, status, page)
    return ok(_page(views, next_cursor, actor))


@router.get("/api/admin/orders", tags=["Admin"])
async def list_all_orders(
    actor: OrderReader,
    page: Pagination,
    status: StatusFilter = None,
    dealer_id: Annotated[str | None, Query(alias="dealerId", max_length=64)] = None,
    buyer_id: Annotated[str | None, Query(alias="buyerId", max_length=64)] = None,
    channel: Channel | None = None,
    since: Annotated[IsoDatetime | None, Query(alias="from", description="Placed at or after")] = None,
    until: Annotated[IsoDatetime | None, Query(alias="to", description="Placed before")] = None,
    dealer_status: Annotated[DealerStatus | None, Query(
        alias="dealerStatus",
        description="Only orders of dealers now in this status; unless `status` is given, only "
                    "those awaiting a decision (paid, packed, shipped, delivered)",
    )] = None,
) -> Envelope[Page[OrderRead]]:
    """Every order, newest first; filter by status, dealer, buyer, channel and date range.

    The queue of a suspended or blocked dealer's orders is `dealerStatus=suspended` (or
    `blocked`): that dealer may no longer pack, ship or cancel them, its escrow is not
    auto-released, and an admin decides each one (cancel and refund, deliver, release)."""
    filters = OrderFilter(
        status=status, dealer_id=dealer_id, buyer_id=buyer_id, channel=channel,
        since=since, until=until,
    )
    views, next_cursor = await queries.list_all(actor, filters, page, dealer_status)
    return ok(_page(views, next_cursor, actor))


@router.patch("/api/admin/orders/{orderId}/review", tags=["Admin"],
              responses=responses(404, 409, 422))
async def decide_order_review(
    order_id: OrderId, body: ReviewDecision, actor: RiskReviewer
) -> Envelope[OrderRead]:
    """Decide an order the fraud checks held (ops): approve → pending_payment (payable, its
    reservation restarted) or reject → cancelled with its stock released; 409 unless on_review."""
    result = await review.decide_review(actor, order_id, body)
    return ok(OrderRead.of(result.order, result.allowed_actions, actor),
              f"Order is now {result.order.status}")
