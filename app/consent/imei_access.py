"""The IMEI reveal: the full number to the assigned software technician under a live
`imei_access` consent, or to a compliance admin; every reveal audited, never the number."""

from app.audit import service as audit
from app.consent import service
from app.consent.exceptions import ConsentRequired, NoImei
from app.consent.models import ConsentScope
from app.consent.schemas import ImeiRead
from app.core.permissions import Actor, Permission
from app.repairs import service as repairs_service
from app.repairs.imei import open_imei


async def reveal_imei(actor: Actor, repair_id: str) -> ImeiRead:
    """403 for anyone but the two allowed; 403 `CONSENT_REQUIRED` for the technician without
    a granted, unexpired `imei_access` consent; 404 for a job the caller may not see."""
    repair = await repairs_service.visible_repair(actor, repair_id)
    consent_id: str | None = None
    if actor.is_admin and actor.can(Permission.REPAIRS_REVEAL_IMEI):
        reason = "compliance investigation"
    else:
        await service.software_technician(actor, repair)
        consent = await service.live_consent(repair, ConsentScope.IMEI_ACCESS)
        if consent is None:
            raise ConsentRequired(ConsentScope.IMEI_ACCESS.value)
        consent_id, reason = consent.id, "granted consent"
    if repair.imei_sealed is None:
        raise NoImei
    imei = open_imei(repair.imei_sealed, repair.id)
    await audit.record(
        None, actor=actor, action="repair.imei_revealed", subject_type="repair",
        subject_id=repair.id, reason=reason,
        metadata={"consentId": consent_id, "via": "compliance" if consent_id is None
                  else "consent"},
    )
    return ImeiRead(imei=imei)
