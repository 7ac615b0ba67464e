"""Every Beanie document of the application, initialised (with its indexes) at start-up."""

from app.alerts.models import DOCUMENTS as ALERT_DOCUMENTS
from app.alerts.models import RETIRED_INDEXES as ALERT_RETIRED_INDEXES
from app.appeals.models import DOCUMENTS as APPEAL_DOCUMENTS
from app.audit.models import AuditChainHead, AuditCheckpoint, AuditEntry
from app.auth.models import LoginThrottle
from app.calls.models import DOCUMENTS as CALL_DOCUMENTS
from app.catalog.models import DOCUMENTS as CATALOG_DOCUMENTS
from app.chat.models import DOCUMENTS as CHAT_DOCUMENTS
from app.consent.models import DOCUMENTS as CONSENT_DOCUMENTS
from app.core.idempotency import IdempotencyRecord
from app.core.leases import JobRun, Lease
from app.dealers.models import DOCUMENTS as DEALER_DOCUMENTS
from app.disputes.models import DOCUMENTS as DISPUTE_DOCUMENTS
from app.disputes.models import RETIRED_INDEXES as DISPUTE_RETIRED_INDEXES
from app.media.models import DOCUMENTS as MEDIA_DOCUMENTS
from app.notifications.models import DOCUMENTS as NOTIFICATION_DOCUMENTS
from app.orders.models import DOCUMENTS as ORDER_DOCUMENTS
from app.payments.ledger.models import DOCUMENTS as LEDGER_DOCUMENTS
from app.payments.models import DOCUMENTS as PAYMENT_DOCUMENTS
from app.payments.models import RETIRED_INDEXES as PAYMENT_RETIRED_INDEXES
from app.payouts.models import DOCUMENTS as PAYOUT_DOCUMENTS
from app.platform_rules.models import DOCUMENTS as PLATFORM_RULE_DOCUMENTS
from app.ratings.models import DOCUMENTS as RATING_DOCUMENTS
from app.repairs.models import DOCUMENTS as REPAIR_DOCUMENTS
from app.sessions.models import DOCUMENTS as SESSION_DOCUMENTS
from app.technicians.models import DOCUMENTS as TECHNICIAN_DOCUMENTS
from app.users.models import User

DOCUMENT_MODELS: list[type] = [
    AuditEntry,
    AuditChainHead,
    AuditCheckpoint,
    Lease,
    JobRun,
    LoginThrottle,
    *SESSION_DOCUMENTS,
    User,
    *DEALER_DOCUMENTS,
    *TECHNICIAN_DOCUMENTS,
    *REPAIR_DOCUMENTS,
    *RATING_DOCUMENTS,
    *CHAT_DOCUMENTS,
    *CATALOG_DOCUMENTS,
    *ORDER_DOCUMENTS,
    *PLATFORM_RULE_DOCUMENTS,
    *LEDGER_DOCUMENTS,
    *PAYMENT_DOCUMENTS,
    *PAYOUT_DOCUMENTS,
    *REPAIR_DOCUMENTS,
    *DISPUTE_DOCUMENTS,
    IdempotencyRecord,
    *ALERT_DOCUMENTS,
    *APPEAL_DOCUMENTS,
    *NOTIFICATION_DOCUMENTS,
    *MEDIA_DOCUMENTS,
    *CALL_DOCUMENTS,
    *CONSENT_DOCUMENTS,
]

# Indexes a model replaced (collection -> index names), dropped at start-up before the
# declared ones are created, so a database made by an older version loses them too.
RETIRED_INDEXES: dict[str, tuple[str, ...]] = {
    **PAYMENT_RETIRED_INDEXES,
    **DISPUTE_RETIRED_INDEXES,
    **ALERT_RETIRED_INDEXES,
}
