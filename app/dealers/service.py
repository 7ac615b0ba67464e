"""Dealer rules and state changes: profile submission, approval, suspension, tiers.

Queries live in `repository.py`, the state table in `transitions.py`; this module decides.
Other domains call the functions here, never the repository. The catalogue hears of status
changes through `register_selling_hook` (dealers know nothing of the catalogue).
"""

from collections.abc import Awaitable, Callable, Iterable

from pymongo.errors import DuplicateKeyError

from app.audit import service as audit
from app.core.database import Session, transaction
from app.core.errors import OverrideForbidden, ReasonRequired
from app.core.pagination import PageRequest
from app.core.permissions import SYSTEM_ACTOR, AccountStatus, Actor, Role
from app.core.queues import QueuePosition, Waiting
from app.dealers import repository
from app.dealers.exceptions import (
    DealerNotActive,
    DealerNotApproved,
    DealerNotFound,
    DealerProfileExists,
    GstinTaken,
    IllegalDealerTransition,
    UnknownCommissionTier,
)
from app.dealers.models import Address, ComplianceDoc, Dealer, DealerStatus, StatusChange
from app.dealers.schemas import CommissionTierIn, DealerAction, DealerCreate, DealerStatusIn
from app.dealers.transitions import Move, allowed_actions, move_for
from app.notifications import notices
from app.platform_rules import service as platform_rules_service
from app.users import service as users_service

# Dealers whose selling an admin stopped: their accounts follow them (ACCOUNT_FOLLOWS).
STOPPED = frozenset({DealerStatus.SUSPENDED, DealerStatus.BLOCKED})
ACCOUNT_FOLLOWS: dict[DealerAction, AccountStatus] = {
    DealerAction.SUSPEND: AccountStatus.SUSPENDED,
    DealerAction.BLOCK: AccountStatus.BLOCKED,
    DealerAction.REINSTATE: AccountStatus.ACTIVE,
}

# hook(session, dealer_id, selling): run in the transaction that changes a dealer's status.
SellingHook = Callable[[Session, str, bool], Awaitable[object]]
_selling_hooks: list[SellingHook] = []


def register_selling_hook(hook: SellingHook) -> None:
    """Tell `hook` in every status change whether the dealer may now sell (is approved)."""
    if hook not in _selling_hooks:
        _selling_hooks.append(hook)


# --- reading --------------------------------------------------------------------------


def is_selling(dealer: Dealer | None) -> bool:
    return dealer is not None and dealer.status is DealerStatus.APPROVED


async def get_dealer(dealer_id: str) -> Dealer | None:
    """Any dealer, whatever its status (for other domains' rules, not for showing)."""
    return await repository.get_visible(SYSTEM_ACTOR, dealer_id)


async def require_selling_dealer(actor: Actor) -> Dealer:
    """The caller's own dealer profile, provided it is approved to sell."""
    dealer = None
    if actor.role is Role.DEALER and actor.dealer_id:
        dealer = await repository.get_private(actor, actor.dealer_id)
    _check_selling(dealer)
    assert dealer is not None
    return dealer


async def require_selling(dealer_id: str) -> None:
    """Refuse (403, rule flag DEALER_NOT_ACTIVE) a selling action of a dealer that is
    suspended or blocked: packing, shipping or cancelling its orders, changing its catalogue."""
    _check_selling(await get_dealer(dealer_id))


def _check_selling(dealer: Dealer | None) -> None:
    if dealer is not None and dealer.status in STOPPED:
        raise DealerNotActive(dealer.status.value)
    if not is_selling(dealer):
        raise DealerNotApproved


async def ids_with_status(status: DealerStatus) -> list[str]:
    """The ids of every dealer now in `status` (system scope; for the admins' order queue)."""
    return await repository.ids_with_status(status)


def can_see_private(actor: Actor | None, dealer: Dealer) -> bool:
    return repository.sees_private(actor, dealer)


async def get_visible(actor: Actor | None, dealer_id: str) -> Dealer:
    """Approved dealers are public; others only to their owner and admins."""
    dealer = await repository.get_visible(actor, dealer_id)
    if dealer is None:
        raise DealerNotFound
    return dealer


async def get_own(actor: Actor) -> Dealer:
    """The caller's own dealer profile, whatever its status."""
    dealer = await repository.get_private(actor, actor.dealer_id) if actor.dealer_id else None
    if dealer is None:
        raise DealerNotFound("You have not submitted a dealer profile yet")
    return dealer


async def _managed(actor: Actor, dealer_id: str) -> Dealer:
    dealer = await repository.get_private(actor, dealer_id)
    if dealer is None:
        raise DealerNotFound
    return dealer


async def list_dealers(
    actor: Actor, status: DealerStatus | None, page: PageRequest
) -> tuple[list[Dealer], str | None]:
    return await repository.page(actor, status, page)


async def commission_rate_bps(dealer_id: str) -> int:
    dealer = await get_dealer(dealer_id)
    if dealer is None:
        raise DealerNotFound
    return await platform_rules_service.commission_rate_bps(dealer.commission_tier)


async def tiers_in_use(tiers: Iterable[str]) -> set[str]:
    """Platform rules' tier usage: the tiers some dealer is still on."""
    return await repository.tiers_in_use(tiers)


# --- changing -------------------------------------------------------------------------


async def submit_profile(actor: Actor, data: DealerCreate) -> Dealer:
    if actor.dealer_id is not None:
        raise DealerProfileExists
    dealer = Dealer(
        user_id=actor.id,
        business_name=data.business_name,
        gstin=data.gstin,
        pan=data.pan,
        address=Address(**data.address.model_dump()),
        contact_phone=data.contact_phone,
        compliance_docs=[ComplianceDoc(**doc.model_dump()) for doc in data.compliance_docs],
        status_history=[
            StatusChange(from_status=None, to_status=DealerStatus.PENDING, action="submit",
                         by=actor.id)
        ],
    )

    async def work(session: Session) -> Dealer:
        await repository.insert(session, dealer)
        await users_service.link_dealer_profile(session, actor.id, dealer.id)
        await audit.record(
            session, actor=actor, action="dealer.profile_submitted", subject_type="dealer",
            subject_id=dealer.id, changes={"status": {"from": None, "to": dealer.status}},
            metadata={"businessName": dealer.business_name, "gstin": dealer.gstin},
        )
        return dealer

    try:
        return await transaction(work)
    except DuplicateKeyError as error:
        if "gstin" in str(error):
            raise GstinTaken from None
        raise DealerProfileExists from None


async def change_status(
    actor: Actor, dealer_id: str, change: DealerStatusIn, *, within: Session | None = None
) -> Dealer:
    """Move a dealer (its account follows). `within` joins the caller's transaction (an
    appeal's reinstatement): the dealer is then returned as read before the move."""
    dealer = await _managed(actor, dealer_id)
    target = _check_move(actor, dealer, change)
    entry = StatusChange(
        from_status=dealer.status, to_status=target, action=change.action.value,
        reason=change.reason, by=actor.id, override=change.override,
    )

    async def work(session: Session) -> None:
        if not await repository.change_status(session, dealer, entry):
            raise IllegalDealerTransition("The dealer changed meanwhile; reload and retry")
        if change.action is DealerAction.APPROVE:
            await users_service.activate_account(session, actor, dealer.user_id, "dealer approved")
        elif account_status := ACCOUNT_FOLLOWS.get(change.action):
            # Its account follows, so a stopped dealer's sessions end at once.
            await users_service.follow_profile_status(
                session, actor, dealer.user_id, account_status,
                change.reason or f"dealer {change.action.value}", override=change.override,
            )
        for hook in _selling_hooks:
            await hook(session, dealer.id, target is DealerStatus.APPROVED)
        await audit.record(
            session, actor=actor, action=f"dealer.{change.action.value}", subject_type="dealer",
            subject_id=dealer.id, changes={"status": {"from": dealer.status, "to": target}},
            reason=change.reason, override=change.override,
        )
        if change.action is DealerAction.APPROVE:
            await notices.dealer_approved(session, dealer_id=dealer.id, user_id=dealer.user_id)

    if within is not None:
        await work(within)
        return dealer
    await transaction(work)
    if account_status := ACCOUNT_FOLLOWS.get(change.action):
        await users_service.disconnect_if_refused(dealer.user_id, account_status)
    return await _managed(actor, dealer_id)


def _check_move(actor: Actor, dealer: Dealer, change: DealerStatusIn) -> DealerStatus:
    move = move_for(dealer.status, change.action)
    if move is not None and move.override_by is not None:
        _check_override(actor, dealer, move, change)
    elif move is None:
        raise IllegalDealerTransition(
            f"Cannot {change.action.value} a dealer that is {dealer.status.value}",
            {"from": dealer.status, "allowedActions": allowed_actions(dealer.status)},
        )
    elif change.override:
        raise IllegalDealerTransition("No rule refuses this change; it is not an override")
    elif move.reason_required and not change.reason:
        raise ReasonRequired(f"A reason is required to {change.action.value} a dealer")
    return move.target


def _check_override(actor: Actor, dealer: Dealer, move: Move, change: DealerStatusIn) -> None:
    # The one override in the table: reinstating a blocked dealer.
    if not change.override:
        raise IllegalDealerTransition(
            "A blocked dealer can only be reinstated as an ops_lead override",
            {"from": dealer.status, "override": "required"},
        )
    if move.override_by is not None and not actor.can(move.override_by):
        raise OverrideForbidden("Only the ops leader may lift a dealer's block")
    if not change.reason:
        raise ReasonRequired("An override must give a reason")


async def change_commission_tier(actor: Actor, dealer_id: str, change: CommissionTierIn) -> Dealer:
    dealer = await _managed(actor, dealer_id)
    if not await platform_rules_service.tier_exists(change.tier):
        raise UnknownCommissionTier(
            f"Unknown commission tier '{change.tier}'",
            {"errors": [{"field": "body.tier", "message": "not a configured tier"}]},
        )

    async def work(session: Session) -> None:
        await repository.set_commission_tier(session, dealer.id, change.tier)
        await audit.record(
            session, actor=actor, action="dealer.commission_tier_changed", subject_type="dealer",
            subject_id=dealer.id,
            changes={"commissionTier": {"from": dealer.commission_tier, "to": change.tier}},
            reason=change.reason,
        )

    await transaction(work)
    return await _managed(actor, dealer_id)


async def awaiting_approval(actor: Actor, after: QueuePosition | None, limit: int) -> list[Waiting]:
    """Dealers pending approval, oldest first (the admins' approval queue)."""
    return await repository.awaiting_approval(actor, after, limit)


async def count_awaiting_approval(actor: Actor) -> int:
    return await repository.count_awaiting_approval(actor)
