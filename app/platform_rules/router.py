"""HTTP only: the admin routes that show and replace the platform rules."""

from fastapi import APIRouter

from app.auth.dependencies import require
from app.core.errors import responses
from app.core.permissions import Permission
from app.core.schemas import Envelope, ok
from app.platform_rules import service
from app.platform_rules.schemas import CommissionTiers, PricingRules

router = APIRouter(prefix="/api/admin", tags=["Admin"], responses=responses(401, 403))
RulesReader = require(Permission.RULES_READ)


@router.get("/pricing-rules")
async def get_pricing_rules(actor: RulesReader) -> Envelope[PricingRules]:
    """Category price bounds, order minimums, delivery charges, service fee, reservation time."""
    return ok(await service.get_pricing_rules())


@router.put("/pricing-rules", responses=responses(422))
async def replace_pricing_rules(
    body: PricingRules, actor: require(Permission.PRICING_RULES_MANAGE)
) -> Envelope[PricingRules]:
    """Replace the pricing rules (all fields); the change is audited."""
    return ok(await service.replace_pricing_rules(actor, body), "Pricing rules updated")


@router.get("/commission-tiers")
async def get_commission_tiers(actor: RulesReader) -> Envelope[CommissionTiers]:
    """Commission tiers and their rates in basis points."""
    return ok(await service.get_commission_tiers())


@router.put("/commission-tiers", responses=responses(409, 422))
async def replace_commission_tiers(
    body: CommissionTiers, actor: require(Permission.COMMISSION_MANAGE)
) -> Envelope[CommissionTiers]:
    """Replace the commission tiers; a tier still assigned to a dealer cannot be removed."""
    return ok(await service.replace_commission_tiers(actor, body), "Commission tiers updated")


@router.get("/technician-commission-tiers")
async def get_technician_commission_tiers(actor: RulesReader) -> Envelope[CommissionTiers]:
    """Technicians' commission tiers (rates in basis points of a repair's quote total)."""
    return ok(await service.get_technician_commission_tiers())


@router.put("/technician-commission-tiers", responses=responses(409, 422))
async def replace_technician_commission_tiers(
    body: CommissionTiers, actor: require(Permission.COMMISSION_MANAGE)
) -> Envelope[CommissionTiers]:
    """Replace the technicians' commission tiers; a tier still assigned cannot be removed."""
    return ok(await service.replace_technician_commission_tiers(actor, body),
              "Technician commission tiers updated")
