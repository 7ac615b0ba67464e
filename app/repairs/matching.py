"""Matching: which technician a job is offered to, and the offer itself.

Hardware jobs are matched automatically. Candidates come from the technicians' exact nearby
search (`find_nearest`: approved, available, hardware skill, latest fix accurate and younger
than LOCATION_FRESH_SECONDS, within REPAIR_MATCH_RADIUS_KM; never a scan), less those busy
with a job between accepted and completed (one indexed query), those holding a live offer
(one query), and those offered this job before. Each is scored

    score = REPAIR_MATCH_WEIGHT_DISTANCE   · (1 − distance / radius)
          + REPAIR_MATCH_WEIGHT_RATING     · Bayesian rating / 5 (technicians'
                                             `bayesian_rating` over the platform-wide mean,
                                             as `find_nearest` gives it each candidate)
          + REPAIR_MATCH_WEIGHT_ACCEPTANCE · acceptance rate of its last 20 decided offers
                                             (1 while it has none)

and the highest score gets the offer (ties: the nearer, then the smaller id). The offer is
one transaction: the job's conditional move to `offered`, the RepairOffer (unique per job and
technician, and one pending per technician: a technician offered elsewhere meanwhile makes
the insert fail and the next candidate is tried), the audit entry and the `repair_offer`
notification, pushed to the technician once committed. With no candidate left the job stays
`unassigned` and the admins are alerted (`repair_unassigned`).
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.alerts import service as alerts
from app.alerts.models import AlertKind
from app.core import clock
from app.core.config import settings
from app.core.database import Session, transaction
from app.core.permissions import SYSTEM_ACTOR, Actor
from app.notifications import notices
from app.repairs import repository as repo
from app.repairs.models import IssueType, Offer, OfferOutcome, Repair, RepairOffer, RepairStatus
from app.repairs.moves import NO_TECHNICIAN, Step, apply_step
from app.repairs.transitions import Party, RepairAction
from app.technicians import nearby
from app.technicians import service as technicians_service
from app.technicians.models import Skill

CANDIDATE_LIMIT = 20
FirstStep = Callable[[Session], Awaitable[Repair | None]]


@dataclass(frozen=True)
class Choice:
    """A technician to offer a job to, and why (score and distance when matched)."""

    technician_id: str
    user_id: str
    score: float | None = None
    distance_km: float | None = None


@dataclass
class Scored:
    technician_id: str
    distance_km: float
    score: float
    parts: dict[str, float] = field(default_factory=dict)


def acceptance_rate(outcomes: list[OfferOutcome]) -> float:
    if not outcomes:
        return 1.0
    return sum(o is OfferOutcome.ACCEPTED for o in outcomes) / len(outcomes)


async def rank(repair: Repair) -> list[Scored]:
    """The eligible candidates for a hardware job, best first (see the module docstring)."""
    if repair.issue_type is not IssueType.HARDWARE or repair.location is None:
        return []
    config = settings().repairs
    radius = config.match_radius_km
    found = await nearby.find_nearest(repair.location.lat, repair.location.lng, radius,
                                      Skill.HARDWARE, CANDIDATE_LIMIT)
    never_again = set(repair.offered_technician_ids)
    ids = [c.id for c in found if c.id not in never_again]
    busy, holding = await asyncio.gather(repo.busy_technicians(ids),
                                         repo.holding_live_offers(ids))
    eligible = [c for c in found if c.id in ids and c.id not in busy and c.id not in holding]
    outcomes = await asyncio.gather(*(repo.recent_outcomes(c.id) for c in eligible))
    scored = []
    for candidate, history in zip(eligible, outcomes, strict=True):
        distance = candidate.exact_km or 0.0
        parts = {"nearness": max(0.0, 1 - distance / radius),
                 "rating": candidate.bayesian / 5, "acceptance": acceptance_rate(history)}
        score = (config.weight_distance * parts["nearness"] + config.weight_rating * parts["rating"]
                 + config.weight_acceptance * parts["acceptance"])
        scored.append(Scored(candidate.id, distance, score, parts))
    scored.sort(key=lambda s: (-s.score, s.distance_km, s.technician_id))
    return scored


async def choice_of(scored: Scored) -> Choice | None:
    technician = await technicians_service.get_technician(scored.technician_id)
    if technician is None:
        return None
    return Choice(technician.id, technician.user_id, round(scored.score, 4),
                  round(scored.distance_km, 3))


def _described(repair: Repair) -> str:
    where = f"{repair.mode.value} " if repair.mode else ""
    return f"{where}{repair.issue_type.value} ({repair.device_brand} {repair.device_model})"


async def offer_step(
    session: Session, actor: Actor, repair: Repair, choice: Choice, *,
    action: RepairAction = RepairAction.OFFER, party: Party = Party.SYSTEM,
    reason: str | None = None, override: bool = False,
) -> Repair | None:
    """Move the job to `offered` to `choice` with its RepairOffer, audit and notification
    (raises DuplicateKeyError when the technician may not be offered it now)."""
    now = clock.utcnow()
    expires = now + timedelta(seconds=settings().repairs.offer_ttl_seconds)
    offer = Offer(technician_id=choice.technician_id, offered_at=now, expires_at=expires)
    metadata: dict[str, Any] = {"expiresAt": expires}
    if choice.score is not None:
        metadata.update(score=choice.score, distanceKm=choice.distance_km)
    step = Step(action, party, RepairStatus.OFFERED, reason=reason,
                changes={"offer": offer.model_dump(), **NO_TECHNICIAN},
                technician_id=choice.technician_id, offered=choice.technician_id,
                override=override, metadata=metadata)
    moved = await apply_step(session, actor, repair, step)
    if moved is None:
        return None
    await repo.insert_offer(session, RepairOffer(
        repair_id=repair.id, technician_id=choice.technician_id, offered_at=now,
        expires_at=expires))
    await notices.repair_offered(session, repair_id=moved.id, technician_id=choice.technician_id,
                                 user_id=choice.user_id, description=_described(moved))
    return moved


async def commit_and_match(actor: Actor, repair: Repair, first: FirstStep) -> Repair | None:
    """Run `first` (which leaves the job waiting for a technician) and, for a hardware job,
    offer it to the best eligible candidate in the same transaction. None when the job moved
    on meanwhile (`first` wrote nothing)."""
    for scored in await rank(repair):
        choice = await choice_of(scored)
        if choice is None:
            continue

        async def work(session: Session, choice: Choice = choice) -> Repair | None:
            waiting = await first(session)
            if waiting is None:
                return None
            return await offer_step(session, SYSTEM_ACTOR, waiting, choice)

        try:
            result = await transaction(work)
        except DuplicateKeyError:
            continue  # offered another job meanwhile: the next candidate
        return result
    waiting = await transaction(first)
    if waiting is not None and waiting.status is RepairStatus.UNASSIGNED:
        await alerts.raise_alert(
            AlertKind.REPAIR_UNASSIGNED, "repair", waiting.id,
            f"No eligible technician is left for hardware repair {waiting.id}; assign one",
            {"offeredTechnicianIds": waiting.offered_technician_ids,
             "radiusKm": settings().repairs.match_radius_km},
        )
    return waiting


async def check_acceptance(technician_id: str) -> None:
    """Alert the admins (for review, never a block) when a technician accepted under
    REPAIR_LOW_ACCEPTANCE_RATIO of its last 20 decided offers."""
    outcomes = await repo.recent_outcomes(technician_id)
    if len(outcomes) < repo.RATE_WINDOW:
        return
    rate = acceptance_rate(outcomes)
    if rate < settings().repairs.low_acceptance_ratio:
        await alerts.raise_alert(
            AlertKind.TECHNICIAN_LOW_ACCEPTANCE, "technician", technician_id,
            f"Technician {technician_id} accepted {rate:.0%} of its last "
            f"{len(outcomes)} repair offers; review it",
            {"acceptanceRate": round(rate, 2), "offers": len(outcomes)},
        )
