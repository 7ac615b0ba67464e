"""Dealer onboarding and governance: profile submission, approval, suspension, tiers."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.audit import service as audit
from app.catalog import service as catalog_service
from app.core import clock
from app.core.database import Session, transaction
from app.core.errors import ReasonRequired
from app.core.pagination import PageRequest, paginate
from app.core.permissions import Actor, AdminScope, Role
from app.dealers.exceptions import (
    DealerNotApproved,
    DealerNotFound,
    DealerProfileExists,
    GstinTaken,
    IllegalDealerTransition,
    UnknownCommissionTier,
)
from app.dealers.models import Address, ComplianceDoc, Dealer, DealerStatus, StatusChange
from app.dealers.schemas import CommissionTierIn, DealerAction, DealerCreate, DealerStatusIn
from app.platform_rules import service as platform_rules_service
from app.users import service as users_service


@dataclass(frozen=True)
class Transition:
    sources: frozenset[DealerStatus]
    target: DealerStatus
    reason_required: bool = True


# The dealer state machine: action → (from which states, to which state).
TRANSITIONS: dict[DealerAction, Transition] = {
    DealerAction.APPROVE: Transition(
        frozenset({DealerStatus.PENDING}), DealerStatus.APPROVED, reason_required=False
    ),
    DealerAction.SUSPEND: Transition(frozenset({DealerStatus.APPROVED}), DealerStatus.SUSPENDED),
    DealerAction.BLOCK: Transition(
        frozenset({DealerStatus.PENDING, DealerStatus.APPROVED, DealerStatus.SUSPENDED}),
        DealerStatus.BLOCKED,
    ),
    DealerAction.REINSTATE: Transition(frozenset({DealerStatus.SUSPENDED}), DealerStatus.APPROVED),
}
# Blocks are final unless an ops admin overrides them, with a reason.
OVERRIDABLE = {(DealerAction.REINSTATE, DealerStatus.BLOCKED)}


def _collection():  # type: ignore[no-untyped-def]
    return Dealer.get_pymongo_collection()


def is_selling(dealer: Dealer | None) -> bool:
    return dealer is not None and dealer.status is DealerStatus.APPROVED


async def get_dealer(dealer_id: str) -> Dealer | None:
    return await Dealer.get(dealer_id)


async def get_dealer_of_user(user_id: str) -> Dealer | None:
    return await Dealer.find_one(Dealer.user_id == user_id)


async def dealer_id_of(actor: Actor | None) -> str | None:
    """The id of the dealer profile a dealer account acts for; None for anyone else."""
    if actor is None or actor.role is not Role.DEALER:
        return None
    dealer = await get_dealer_of_user(actor.id)
    return dealer.id if dealer else None


async def require_selling_dealer(actor: Actor) -> Dealer:
    """The caller's own dealer profile, provided it is approved to sell."""
    dealer = await get_dealer_of_user(actor.id) if actor.role is Role.DEALER else None
    if not is_selling(dealer):
        raise DealerNotApproved
    assert dealer is not None
    return dealer


def can_see_private(actor: Actor | None, dealer: Dealer) -> bool:
    return actor is not None and (actor.is_admin or actor.id == dealer.user_id)


async def get_visible(actor: Actor | None, dealer_id: str) -> Dealer:
    """Approved dealers are public; others only to their owner and admins."""
    dealer = await get_dealer(dealer_id)
    if dealer is None or not (is_selling(dealer) or can_see_private(actor, dealer)):
        raise DealerNotFound
    return dealer


async def get_owned_or_admin(actor: Actor, dealer_id: str) -> Dealer:
    dealer = await get_dealer(dealer_id)
    if dealer is None or not can_see_private(actor, dealer):
        raise DealerNotFound
    return dealer


async def submit_profile(actor: Actor, data: DealerCreate) -> Dealer:
    if await get_dealer_of_user(actor.id) is not None:
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
        await dealer.insert(session=session)
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


async def change_status(actor: Actor, dealer_id: str, change: DealerStatusIn) -> Dealer:
    dealer = await get_owned_or_admin(actor, dealer_id)
    target = _check_transition(actor, dealer, change)
    entry = StatusChange(
        from_status=dealer.status, to_status=target, action=change.action.value,
        reason=change.reason, by=actor.id, override=change.override,
    )

    async def work(session: Session) -> None:
        result = await _collection().update_one(
            {"_id": dealer.id, "status": dealer.status.value, "version": dealer.version},
            {"$set": {"status": target.value, "updated_at": clock.utcnow()},
             "$push": {"status_history": entry.model_dump(mode="python")},
             "$inc": {"version": 1}},
            session=session,
        )
        if result.modified_count != 1:
            raise IllegalDealerTransition("The dealer changed meanwhile; reload and retry")
        if change.action is DealerAction.APPROVE:
            await users_service.activate_account(session, actor, dealer.user_id, "dealer approved")
        await catalog_service.set_dealer_listing_visibility(
            session, dealer.id, target is DealerStatus.APPROVED
        )
        await audit.record(
            session, actor=actor, action=f"dealer.{change.action.value}", subject_type="dealer",
            subject_id=dealer.id, changes={"status": {"from": dealer.status, "to": target}},
            reason=change.reason, override=change.override,
        )

    await transaction(work)
    return await get_owned_or_admin(actor, dealer_id)


def _check_transition(actor: Actor, dealer: Dealer, change: DealerStatusIn) -> DealerStatus:
    transition = TRANSITIONS[change.action]
    if (change.action, dealer.status) in OVERRIDABLE:
        if not change.override:
            raise IllegalDealerTransition(
                "A blocked dealer can only be reinstated as an ops override",
                {"from": dealer.status, "override": "required"},
            )
        if not actor.has_scope(AdminScope.OPS):
            raise IllegalDealerTransition("Only ops admins may override a block")
        if not change.reason:
            raise ReasonRequired("An override must give a reason")
        return transition.target
    if dealer.status not in transition.sources:
        raise IllegalDealerTransition(
            f"Cannot {change.action.value} a dealer that is {dealer.status.value}",
            {"from": dealer.status, "allowedActions": allowed_actions(dealer.status)},
        )
    if change.override:
        raise IllegalDealerTransition("No rule refuses this change; it is not an override")
    if transition.reason_required and not change.reason:
        raise ReasonRequired(f"A reason is required to {change.action.value} a dealer")
    return transition.target


def allowed_actions(status: DealerStatus) -> list[str]:
    return [action.value for action, t in TRANSITIONS.items() if status in t.sources]


async def change_commission_tier(actor: Actor, dealer_id: str, change: CommissionTierIn) -> Dealer:
    dealer = await get_owned_or_admin(actor, dealer_id)
    if not await platform_rules_service.tier_exists(change.tier):
        raise UnknownCommissionTier(
            f"Unknown commission tier '{change.tier}'",
            {"errors": [{"field": "body.tier", "message": "not a configured tier"}]},
        )

    async def work(session: Session) -> None:
        await _collection().update_one(
            {"_id": dealer.id},
            {"$set": {"commission_tier": change.tier, "updated_at": clock.utcnow()},
             "$inc": {"version": 1}},
            session=session,
        )
        await audit.record(
            session, actor=actor, action="dealer.commission_tier_changed", subject_type="dealer",
            subject_id=dealer.id,
            changes={"commissionTier": {"from": dealer.commission_tier, "to": change.tier}},
            reason=change.reason,
        )

    await transaction(work)
    return await get_owned_or_admin(actor, dealer_id)


async def commission_rate_bps(dealer_id: str) -> int:
    dealer = await get_dealer(dealer_id)
    if dealer is None:
        raise DealerNotFound
    return await platform_rules_service.commission_rate_bps(dealer.commission_tier)


async def tiers_in_use(tiers: Iterable[str]) -> set[str]:
    return set(await _collection().distinct("commission_tier", {"commission_tier": {"$in": list(tiers)}}))


async def list_dealers(
    status: DealerStatus | None, page: PageRequest
) -> tuple[list[Dealer], str | None]:
    query: dict[str, Any] = {"status": status.value} if status else {}
    docs, next_cursor = await paginate(_collection(), query, page)
    return [Dealer.model_validate(doc) for doc in docs], next_cursor
