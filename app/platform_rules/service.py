"""Reading and changing the admin-governed platform rules.

The bottom of the marketplace: it knows nothing of dealers, technicians or the catalogue. A
domain that assigns commission tiers says which of them it still uses through
`register_tier_usage` (dealers the dealer tiers, technicians the technician tiers).
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from pydantic import BaseModel

from app.audit import service as audit
from app.core.database import Session, transaction
from app.core.errors import Conflict
from app.core.permissions import Actor
from app.platform_rules import repository
from app.platform_rules.schemas import (
    DEFAULT_COMMISSION_TIERS,
    DEFAULT_PRICING_RULES,
    DEFAULT_TIER,
    CommissionTiers,
    PricingRules,
)

PRICING = "pricing"
COMMISSION = "commission"
# The technicians' commission tiers: a rule set of their own, so the dealers' routes and
# rules stay as they were.
TECHNICIAN_COMMISSION = "technician_commission"
RULE_SETS = [PRICING, COMMISSION, TECHNICIAN_COMMISSION]
RulesT = TypeVar("RulesT", bound=BaseModel)

TierUsage = Callable[[set[str]], Awaitable[set[str]]]
_tier_usage: dict[str, list[TierUsage]] = {COMMISSION: [], TECHNICIAN_COMMISSION: []}
_TIER_HOLDERS = {COMMISSION: "dealers", TECHNICIAN_COMMISSION: "technicians"}


def register_tier_usage(usage: TierUsage, rule_set: str = COMMISSION) -> None:
    """`usage(tiers)` answers which of `tiers` of `rule_set` (the dealer tiers, or
    TECHNICIAN_COMMISSION) are still assigned; those cannot be removed."""
    if usage not in _tier_usage[rule_set]:
        _tier_usage[rule_set].append(usage)


# Rule sets already read in the current `read_once` block (None outside any).
_read: ContextVar[dict[str, dict[str, Any] | None] | None] = ContextVar(
    "platform_rules_read", default=None
)


@asynccontextmanager
async def read_once() -> AsyncIterator[None]:
    """Within the block (one use case of one request), the rule sets are read from the
    database once, all in one command, at the first use of any of them; outside it every
    use reads them afresh. Nothing outlives the block, so a change made by an admin applies
    to every use case that starts after it, in every process."""
    token = _read.set({})
    try:
        yield
    finally:
        _read.reset(token)


async def _stored(name: str) -> dict[str, Any] | None:
    already = _read.get()
    if already is None:
        return await repository.load(name)
    if name not in already:
        already.update(await repository.load_many(RULE_SETS))
    return already[name]


async def _load(name: str, model: type[RulesT], default: RulesT) -> RulesT:
    stored = await _stored(name)
    return model.model_validate(stored) if stored is not None else default


async def get_pricing_rules() -> PricingRules:
    return await _load(PRICING, PricingRules, DEFAULT_PRICING_RULES)


async def get_commission_tiers() -> CommissionTiers:
    return await _load(COMMISSION, CommissionTiers, DEFAULT_COMMISSION_TIERS)


async def get_technician_commission_tiers() -> CommissionTiers:
    return await _load(TECHNICIAN_COMMISSION, CommissionTiers, DEFAULT_COMMISSION_TIERS)


async def commission_rate_bps(tier: str) -> int:
    tiers = (await get_commission_tiers()).tiers
    return tiers.get(tier, DEFAULT_COMMISSION_TIERS.tiers["standard"])


async def technician_commission_rate_bps(tier: str) -> int:
    """A technician tier's rate (a tier no longer known: the default tier's)."""
    tiers = (await get_technician_commission_tiers()).tiers
    return tiers.get(tier, tiers.get(DEFAULT_TIER, DEFAULT_COMMISSION_TIERS.tiers[DEFAULT_TIER]))


async def tier_exists(tier: str) -> bool:
    return tier in (await get_commission_tiers()).tiers


async def technician_tier_exists(tier: str) -> bool:
    return tier in (await get_technician_commission_tiers()).tiers


async def replace_pricing_rules(actor: Actor, rules: PricingRules) -> PricingRules:
    before = await get_pricing_rules()
    await _replace(actor, PRICING, before, rules, "platform.pricing_rules_changed")
    return rules


async def replace_commission_tiers(actor: Actor, tiers: CommissionTiers) -> CommissionTiers:
    before = await get_commission_tiers()
    await _check_removed_unused(COMMISSION, before, tiers)
    await _replace(actor, COMMISSION, before, tiers, "platform.commission_tiers_changed")
    return tiers


async def replace_technician_commission_tiers(
    actor: Actor, tiers: CommissionTiers
) -> CommissionTiers:
    before = await get_technician_commission_tiers()
    await _check_removed_unused(TECHNICIAN_COMMISSION, before, tiers)
    await _replace(actor, TECHNICIAN_COMMISSION, before, tiers,
                   "platform.technician_commission_tiers_changed")
    return tiers


async def _check_removed_unused(
    rule_set: str, before: CommissionTiers, after: CommissionTiers
) -> None:
    removed = set(before.tiers) - set(after.tiers)
    in_use: set[str] = set()
    if removed:
        for usage in _tier_usage[rule_set]:
            in_use |= await usage(removed)
    if in_use:
        raise Conflict(
            f"Tiers still assigned to {_TIER_HOLDERS[rule_set]} cannot be removed",
            {"tiersInUse": sorted(in_use)},
        )


async def _replace(
    actor: Actor, name: str, before: BaseModel, after: BaseModel, action: str
) -> None:
    old, new = _plain(before), _plain(after)

    async def work(session: Session) -> None:
        await repository.save(session, name, new, actor.id)
        await audit.record(
            session, actor=actor, action=action, subject_type="platform_rules",
            subject_id=name, changes=audit.diff(old, new),
        )

    await transaction(work)


def _plain(rules: BaseModel) -> dict[str, Any]:
    return rules.model_dump(mode="json")
