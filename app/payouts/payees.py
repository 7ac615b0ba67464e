"""Who is paid out: a payee is a dealer (`dlr_…`) or a technician (`tch_…`), named by its
profile id everywhere in payouts (`recipientId`). Each is looked up through its own domain's
service; the prefixes of the two kinds of ids never collide."""

from dataclasses import dataclass

from app.core.permissions import Actor, Role
from app.dealers import service as dealers_service
from app.payouts.models import RecipientType
from app.technicians import service as technicians_service
from app.technicians.exceptions import TechnicianNotApproved
from app.technicians.models import TechnicianStatus

# The roles that own payout accounts and payable balances.
PAYEE_ROLES = frozenset({Role.DEALER, Role.TECHNICIAN})


@dataclass(frozen=True)
class Payee:
    recipient_id: str
    recipient_type: RecipientType


async def own_payee(actor: Actor) -> Payee:
    """The caller's own payee profile, provided it may be paid (a dealer approved to sell, an
    approved technician); 403 otherwise."""
    if actor.role is Role.TECHNICIAN:
        technician = (await technicians_service.get_technician(actor.technician_id)
                      if actor.technician_id else None)
        if technician is None or technician.status is not TechnicianStatus.APPROVED:
            raise TechnicianNotApproved
        return Payee(technician.id, RecipientType.TECHNICIAN)
    dealer = await dealers_service.require_selling_dealer(actor)
    return Payee(dealer.id, RecipientType.DEALER)


def own_recipient_id(actor: Actor) -> str | None:
    """The payee profile id the caller acts for (its dealer or technician), if any."""
    if actor.role is Role.TECHNICIAN:
        return actor.technician_id
    if actor.role is Role.DEALER:
        return actor.dealer_id
    return None


async def exists(recipient_id: str) -> bool:
    """A dealer or a technician of that id, whatever its status."""
    if recipient_id.startswith("tch_"):
        return await technicians_service.get_technician(recipient_id) is not None
    return await dealers_service.get_dealer(recipient_id) is not None


async def paid_automatically(recipient_id: str) -> bool:
    """Whether the daily batch may pay the payee: a dealer still selling, an approved
    technician (a suspended or blocked one is paid only by finance, by hand)."""
    if recipient_id.startswith("tch_"):
        technician = await technicians_service.get_technician(recipient_id)
        return technician is not None and technician.status is TechnicianStatus.APPROVED
    return dealers_service.is_selling(await dealers_service.get_dealer(recipient_id))


async def user_id_of(recipient_id: str) -> str | None:
    """The account of a payee, to tell it of its payouts."""
    profile = (await technicians_service.get_technician(recipient_id)
               if recipient_id.startswith("tch_") else await dealers_service.get_dealer(recipient_id))
    return profile.user_id if profile is not None else None


def subject_type(recipient_id: str) -> str:
    """The audit subject type of a payee."""
    return "technician" if recipient_id.startswith("tch_") else "dealer"
