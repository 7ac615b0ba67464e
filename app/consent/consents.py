"""Consent requests: a technician asks, the customer grants or denies, either revokes.

The consent screen's text is generated here, versioned (`TEXT_VERSION`), and stored with its
SHA-256 in the request, so the record proves what the customer saw when granting.
"""

import hashlib
from datetime import timedelta

from pymongo.errors import DuplicateKeyError

from app.audit import service as audit
from app.consent import repository as repo
from app.consent import service
from app.consent.exceptions import (
    ConsentAlreadyPending,
    ConsentNotFound,
    ConsentRuleViolation,
    IllegalConsentTransition,
    JobNotActive,
    NotAConsentParty,
    WrongConsentParty,
)
from app.consent.models import (
    Consent,
    ConsentAction,
    ConsentChange,
    ConsentScope,
)
from app.consent.schemas import ConsentCreate, ConsentRead, PartyConsentAction
from app.consent.transitions import CONSENT_ACTION_PARTIES, Party, consent_actions, consent_move
from app.core import clock
from app.core.context import current_source
from app.core.database import Session, transaction
from app.core.permissions import Actor
from app.notifications import notices
from app.notifications import service as notifications
from app.repairs import service as repairs_service
from app.repairs.models import ACTIVE_STATUSES, RepairMode
from app.technicians import service as technicians_service
from app.technicians.models import Skill, Technician

TEXT_VERSION = "consent-screen/1"
SKILL_REQUIRED = "SOFTWARE_SKILL_REQUIRED"
ONLINE_ONLY = "ONLINE_ONLY"


def screen_text(technician: Technician | None, repair_id: str, scopes: list[ConsentScope],
                purpose: str, duration_minutes: int) -> str:
    """The consent screen, version `TEXT_VERSION`: what the customer is asked to agree to."""
    name = technician.name if technician else "the assigned technician"
    lines = [
        f"Consent request ({TEXT_VERSION})",
        f"Repair job: {repair_id}",
        f"Technician: {name} (verification: {service.verification_of(technician)})",
        "The technician asks your permission to:",
        *[f"- {service.SCOPE_WORDS[scope]}" for scope in scopes],
        f"Purpose: {purpose}",
        f"Duration: {duration_minutes} minutes from when you grant it; it then ends by itself.",
        "You may revoke this consent at any time; revoking ends at once every remote session "
        "that depends on it.",
    ]
    return "\n".join(lines)


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def request_consent(actor: Actor, repair_id: str, data: ConsentCreate) -> ConsentRead:
    """The assigned technician asks the customer for `scopes` on an accepted, unfinished job."""
    repair = await repairs_service.visible_repair(actor, repair_id)
    if service.party_of(actor, repair) is not Party.TECHNICIAN:
        raise NotAConsentParty("Only the job's assigned technician requests consent")
    if repair.status not in ACTIVE_STATUSES:
        raise JobNotActive(repair.status.value)
    technician = await service.technician_of(repair)
    if ConsentScope.IMEI_ACCESS in data.scopes and (
            technician is None or Skill.SOFTWARE not in technician.skills):
        raise ConsentRuleViolation("imei_access is only for a technician with the software "
                                   "skill", SKILL_REQUIRED)
    if ConsentScope.REMOTE_PORT in data.scopes and repair.mode is not RepairMode.ONLINE:
        raise ConsentRuleViolation("remote_port is only for online jobs", ONLINE_ONLY)
    assert repair.technician_id is not None and repair.technician_user_id is not None
    now = clock.utcnow()
    text = screen_text(technician, repair.id, data.scopes, data.purpose, data.duration_minutes)

    async def work(session: Session) -> Consent:
        consent = Consent(
            repair_id=repair.id, customer_id=repair.customer_id,
            technician_id=repair.technician_id, technician_user_id=repair.technician_user_id,
            scopes=data.scopes, purpose=data.purpose, duration_minutes=data.duration_minutes,
            text=text, text_version=TEXT_VERSION, text_sha256=sha256_of(text),
            requested_at=now, expires_at=now + timedelta(minutes=data.duration_minutes),
            updated_at=now,
            history=[ConsentChange(from_status=None, to_status="pending", action="request",
                                   by=actor.id, at=now)],
        )
        try:
            await repo.insert_consent(session, consent)
        except DuplicateKeyError:
            raise ConsentAlreadyPending from None
        await audit.record(
            session, actor=actor, action="consent.requested", subject_type="consent",
            subject_id=consent.id,
            metadata={"repairId": repair.id, "scopes": [s.value for s in data.scopes],
                      "durationMinutes": data.duration_minutes, "textVersion": TEXT_VERSION,
                      "textSha256": consent.text_sha256},
        )
        await notices.consent_requested(
            session, consent_id=consent.id, repair_id=repair.id, customer_id=consent.customer_id,
            asked_by=technician.name if technician else "Your technician")
        return consent

    consent = await transaction(work)
    await service.announce_consent(consent, service.CONSENT_REQUESTED_EVENT)
    return service.consent_read(consent, technician, Party.TECHNICIAN)


async def list_consents(actor: Actor, repair_id: str) -> list[ConsentRead]:
    """The job's consent screens and their states (its customer, its technician, admins)."""
    repair = await repairs_service.visible_repair(actor, repair_id)
    party = service.party_of(actor, repair)
    if party is None and not actor.is_admin:
        raise ConsentNotFound("Repair not found")
    consents = await repo.consents_of_repair(actor, repair.id)
    for consent in consents:
        await service.expire_if_due(consent)
    consents = await repo.consents_of_repair(actor, repair.id)
    technicians: dict[str, Technician | None] = {}
    shown = []
    for consent in consents:
        if consent.technician_id not in technicians:
            technicians[consent.technician_id] = await technicians_service.get_technician(
                consent.technician_id)
        shown.append(service.consent_read(consent, technicians[consent.technician_id], party))
    return shown


async def decide(actor: Actor, repair_id: str, consent_id: str,
                 choice: PartyConsentAction) -> ConsentRead:
    """Grant, deny or revoke, as the transition table allows; revoking ends the sessions
    that depend on the consent at once."""
    repair = await repairs_service.visible_repair(actor, repair_id)
    party = service.party_of(actor, repair)
    consent = await repo.visible_consent(actor, repair.id, consent_id)
    if consent is None:
        raise ConsentNotFound
    action = ConsentAction(choice.value)
    if party is None or party not in CONSENT_ACTION_PARTIES[action]:
        raise WrongConsentParty(f"You may not {action.value} this consent",
                                {"action": action.value})
    if await service.expire_if_due(consent):
        consent = await repo.consent_of(consent.id) or consent
    move = consent_move(consent.status, action)
    details = {"status": consent.status.value, "action": action.value,
               "allowedActions": consent_actions(consent.status, party)}
    if move is None or party not in move.by:
        raise IllegalConsentTransition(
            f"A {consent.status.value} consent cannot be {action.value}ed", details)
    now = clock.utcnow()
    fields: dict[str, object] = {"decided_at": now} if action is not ConsentAction.REVOKE else {}
    if action is ConsentAction.GRANT:
        source = current_source()
        fields.update(granted_at=now, granted_ip=source.ip, granted_user_agent=source.user_agent,
                      expires_at=now + timedelta(minutes=consent.duration_minutes))
    if action is ConsentAction.REVOKE:
        fields.update(ended_at=now, ended_by=actor.id)
    change = ConsentChange(from_status=consent.status, to_status=move.target,
                           action=action.value, by=actor.id, at=now)

    async def work(session: Session) -> None:
        if not await repo.move_consent(session, consent, move.target, change, fields):
            raise IllegalConsentTransition("The consent changed meanwhile; reload it", details)
        await audit.record(
            session, actor=actor, action=f"consent.{move.target.value}", subject_type="consent",
            subject_id=consent.id,
            changes={"status": {"from": consent.status.value, "to": move.target.value}},
            metadata={"repairId": repair.id, "scopes": [s.value for s in consent.scopes],
                      "textVersion": consent.text_version, "textSha256": consent.text_sha256},
        )

    await transaction(work)
    if action is ConsentAction.REVOKE:
        await service.end_sessions_of_consent(consent.id)
    moved = await repo.consent_of(consent.id)
    if moved is None:
        raise ConsentNotFound
    await service.announce_consent(moved, service.CONSENT_UPDATED_EVENT)
    other = moved.technician_user_id if party is Party.CUSTOMER else moved.customer_id
    await notifications.notify(
        None, key=f"consent:{moved.id}:{moved.status.value}", user_id=other,
        kind=f"consent_{moved.status.value}", subject_type="repair", subject_id=repair.id,
        message=f"The consent on repair {repair.id} was {moved.status.value}",
    )
    return service.consent_read(moved, await service.technician_of(repair), party)
