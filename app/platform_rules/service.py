"""Reading and changing the admin-governed platform rules."""

from typing import Any, TypeVar

from pydantic import BaseModel

from app.audit import service as audit
from app.core import clock
from app.core.database import Session, transaction
from app.core.errors import Conflict
from app.core.permissions import Actor
from app.dealers import service as dealers_service
from app.platform_rules.models import PlatformRule
from app.platform_rules.schemas import (
    DEFAULT_COMMISSION_TIERS,
    DEFAULT_PRICING_RULES,
    CommissionTiers,
    PricingRules,
)

PRICING = "pricing"
COMMISSION = "commission"
RulesT = TypeVar("RulesT", bound=BaseModel)


async def _load(name: str, model: type[RulesT], default: RulesT) -> RulesT:
    stored = await PlatformRule.get_pymongo_collection().find_one({"_id": name})
    return model.model_validate(stored["rules"]) if stored else default


async def get_pricing_rules() -> PricingRules:
    return await _load(PRICING, PricingRules, DEFAULT_PRICING_RULES)


async def get_commission_tiers() -> CommissionTiers:
    return await _load(COMMISSION, CommissionTiers, DEFAULT_COMMISSION_TIERS)


async def commission_rate_bps(tier: str) -> int:
    tiers = (await get_commission_tiers()).tiers
    return tiers.get(tier, DEFAULT_COMMISSION_TIERS.tiers["standard"])


async def tier_exists(tier: str) -> bool:
    return tier in (await get_commission_tiers()).tiers


async def replace_pricing_rules(actor: Actor, rules: PricingRules) -> PricingRules:
    before = await get_pricing_rules()
    await _replace(actor, PRICING, before, rules, "platform.pricing_rules_changed")
    return rules


async def replace_commission_tiers(actor: Actor, tiers: CommissionTiers) -> CommissionTiers:
    before = await get_commission_tiers()
    removed = set(before.tiers) - set(tiers.tiers)
    in_use = await dealers_service.tiers_in_use(removed) if removed else set()
    if in_use:
        raise Conflict(
            "Tiers still assigned to dealers cannot be removed", {"tiersInUse": sorted(in_use)}
        )
    await _replace(actor, COMMISSION, before, tiers, "platform.commission_tiers_changed")
    return tiers


async def _replace(
    actor: Actor, name: str, before: BaseModel, after: BaseModel, action: str
) -> None:
    old, new = _plain(before), _plain(after)

    async def work(session: Session) -> None:
        await PlatformRule.get_pymongo_collection().update_one(
            {"_id": name},
            {"$set": {"rules": new, "updated_by": actor.id, "updated_at": clock.utcnow()},
             "$inc": {"version": 1}},
            upsert=True,
            session=session,
        )
        await audit.record(
            session, actor=actor, action=action, subject_type="platform_rules",
            subject_id=name, changes=audit.diff(old, new),
        )

    await transaction(work)


def _plain(rules: BaseModel) -> dict[str, Any]:
    return rules.model_dump(mode="json")
