"""Every Beanie document of the application, initialised (with its indexes) at start-up."""

from app.audit.models import AuditChainHead, AuditEntry
from app.auth.models import LoginFailure, RefreshToken
from app.catalog.models import DOCUMENTS as CATALOG_DOCUMENTS
from app.core.leases import Lease
from app.dealers.models import DOCUMENTS as DEALER_DOCUMENTS
from app.orders.models import DOCUMENTS as ORDER_DOCUMENTS
from app.payments.ledger.models import DOCUMENTS as LEDGER_DOCUMENTS
from app.platform_rules.models import DOCUMENTS as PLATFORM_RULE_DOCUMENTS
from app.users.models import User

DOCUMENT_MODELS: list[type] = [
    AuditEntry,
    AuditChainHead,
    Lease,
    LoginFailure,
    RefreshToken,
    User,
    *DEALER_DOCUMENTS,
    *CATALOG_DOCUMENTS,
    *ORDER_DOCUMENTS,
    *PLATFORM_RULE_DOCUMENTS,
    *LEDGER_DOCUMENTS,
]
