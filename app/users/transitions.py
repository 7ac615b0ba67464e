"""The account state tables: account status, and a customer's business (B2B) verification."""

from app.core.permissions import AccountStatus
from app.users.models import BusinessVerification

# Which account statuses an admin may move to from each status. Lifting a block is an
# override of the rule that blocks are final: it needs `override` and a reason.
STATUS_TRANSITIONS: dict[AccountStatus, set[AccountStatus]] = {
    AccountStatus.PENDING: {AccountStatus.ACTIVE, AccountStatus.BLOCKED},
    AccountStatus.ACTIVE: {AccountStatus.SUSPENDED, AccountStatus.BLOCKED},
    AccountStatus.SUSPENDED: {AccountStatus.ACTIVE, AccountStatus.BLOCKED},
    AccountStatus.BLOCKED: set(),
}
OVERRIDABLE = {(AccountStatus.BLOCKED, AccountStatus.ACTIVE)}

# A business review's outcome → the verification states it may be reached from.
BUSINESS_REVIEW_FROM: dict[BusinessVerification, set[BusinessVerification]] = {
    BusinessVerification.VERIFIED: {BusinessVerification.PENDING, BusinessVerification.REJECTED},
    BusinessVerification.REJECTED: {BusinessVerification.PENDING, BusinessVerification.VERIFIED},
}
