"""The one policy table: which role (and admin scope) holds which permission."""

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"
    DEALER = "dealer"
    TECHNICIAN = "technician"
    ADMIN = "admin"
    SYSTEM = "system"


class AdminScope(StrEnum):
    FINANCE = "finance"
    OPS = "ops"
    OPS_LEAD = "ops_lead"
    COMPLIANCE = "compliance"
    SUPERADMIN = "superadmin"


class AccountStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    BLOCKED = "blocked"


# Moving an account here ends its sessions at once (live tokens 401, sockets closed), and
# Socket.IO refuses it.
REFUSED_ACCOUNT_STATUSES = frozenset({AccountStatus.SUSPENDED, AccountStatus.BLOCKED})
# Accounts that may not sign in again. A suspended one may: to appeal (_SUSPENDED_PERMISSIONS).
SIGN_IN_REFUSED_STATUSES = frozenset({AccountStatus.BLOCKED})


class Permission(StrEnum):
    PROFILE_READ = "profile:read"
    NOTIFICATIONS_READ = "notifications:read"
    APPEALS_FILE = "appeals:file"
    APPEALS_DECIDE = "appeals:decide"
    USERS_READ = "users:read"
    USERS_MANAGE = "users:manage"
    BUSINESS_VERIFY = "users:verify-business"
    ADMINS_CREATE = "admins:create"
    AUDIT_READ = "audit:read"
    DEALER_PROFILE_SUBMIT = "dealers:submit-profile"
    DEALERS_MANAGE = "dealers:manage"
    COMMISSION_MANAGE = "commission:manage"
    PRICING_RULES_MANAGE = "pricing-rules:manage"
    PRODUCTS_WRITE = "products:write"
    PRODUCTS_MODERATE = "products:moderate"
    INVENTORY_WRITE = "inventory:write"
    ORDERS_PLACE = "orders:place"
    ORDERS_FULFIL = "orders:fulfil"
    ORDERS_READ_ALL = "orders:read-all"
    ORDERS_OVERRIDE = "orders:override"
    LOCATION_UPDATE = "technicians:update-location"
    TECHNICIAN_PROFILE_SUBMIT = "technicians:submit-profile"
    TECHNICIANS_MANAGE = "technicians:manage"
    TECHNICIANS_SEARCH = "technicians:search-nearby"
    RULES_READ = "rules:read"
    PAYMENTS_MAKE = "payments:make"
    PAYMENTS_READ_ALL = "payments:read-all"
    ESCROW_RELEASE = "escrow:release"
    ESCROW_HOLD = "escrow:hold"
    ESCROW_OVERRIDE = "escrow:override"
    REFUNDS_ISSUE = "refunds:issue"
    LEDGER_VERIFY = "ledger:verify"
    ALERTS_MANAGE = "alerts:manage"
    PAYOUT_ACCOUNTS_REGISTER = "payout-accounts:register"
    PAYOUT_ACCOUNTS_VERIFY = "payout-accounts:verify"
    PAYOUTS_MANAGE = "payouts:manage"
    DISPUTES_OPEN = "disputes:open"
    DISPUTES_READ_ALL = "disputes:read-all"
    DISPUTES_MANAGE = "disputes:manage"
    REPAIRS_BOOK = "repairs:book"
    REPAIRS_WORK = "repairs:work"
    REPAIRS_READ_ALL = "repairs:read-all"
    REPAIRS_ASSIGN = "repairs:assign"
    REPAIRS_REVEAL_IMEI = "repairs:reveal-imei"
    RATINGS_WRITE = "ratings:write"
    RATINGS_MODERATE = "ratings:moderate"
    CHAT_MODERATE = "chat:moderate"
    # Overrides: acting outside the normal flow, each use audited as an override with a reason.
    BLOCKS_LIFT = "accounts:lift-block"
    DISPUTES_OVERRIDE = "disputes:override"
    REPAIRS_OVERRIDE = "repairs:override"
    OVERRIDES_READ = "overrides:read"
    GOVERNANCE_READ = "governance:read"
    RISK_REVIEW = "risk:review"
    DEALER_DASHBOARD = "dealers:dashboard"
    TECHNICIAN_DASHBOARD = "technicians:dashboard"
    DISPUTES_EVIDENCE = "disputes:evidence"


_ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.CUSTOMER: frozenset(
        {Permission.PROFILE_READ, Permission.NOTIFICATIONS_READ, Permission.ORDERS_PLACE,
         Permission.PAYMENTS_MAKE,
         Permission.DISPUTES_OPEN, Permission.TECHNICIANS_SEARCH, Permission.REPAIRS_BOOK,
         Permission.RATINGS_WRITE}
    ),
    Role.DEALER: frozenset(
        {
            Permission.PROFILE_READ,
            Permission.NOTIFICATIONS_READ,
            Permission.APPEALS_FILE,
            Permission.DEALER_PROFILE_SUBMIT,
            Permission.PRODUCTS_WRITE,
            Permission.INVENTORY_WRITE,
            Permission.ORDERS_FULFIL,
            Permission.PAYOUT_ACCOUNTS_REGISTER,
            Permission.DEALER_DASHBOARD,
        }
    ),
    Role.TECHNICIAN: frozenset(
        {Permission.PROFILE_READ, Permission.NOTIFICATIONS_READ, Permission.APPEALS_FILE,
         Permission.LOCATION_UPDATE, Permission.TECHNICIAN_PROFILE_SUBMIT,
         Permission.REPAIRS_WORK, Permission.ORDERS_PLACE, Permission.PAYMENTS_MAKE,
         Permission.DISPUTES_OPEN, Permission.PAYOUT_ACCOUNTS_REGISTER,
         Permission.TECHNICIAN_DASHBOARD}
    ),
    Role.ADMIN: frozenset(
        {
            Permission.PROFILE_READ,
            Permission.NOTIFICATIONS_READ,
            Permission.USERS_READ,
            Permission.ORDERS_READ_ALL,
            Permission.RULES_READ,
            Permission.PAYMENTS_READ_ALL,
            Permission.DISPUTES_READ_ALL,
            Permission.TECHNICIANS_SEARCH,
            Permission.REPAIRS_READ_ALL,
            Permission.GOVERNANCE_READ,
        }
    ),
    Role.SYSTEM: frozenset(),
}

_SCOPE_PERMISSIONS: dict[AdminScope, frozenset[Permission]] = {
    AdminScope.OPS: frozenset(
        {
            Permission.USERS_MANAGE,
            Permission.APPEALS_DECIDE,
            Permission.BUSINESS_VERIFY,
            Permission.DEALERS_MANAGE,
            Permission.TECHNICIANS_MANAGE,
            Permission.PRICING_RULES_MANAGE,
            Permission.PRODUCTS_MODERATE,
            Permission.ALERTS_MANAGE,
            Permission.DISPUTES_MANAGE,
            Permission.REPAIRS_ASSIGN,
            Permission.RATINGS_MODERATE,
            Permission.CHAT_MODERATE,
            Permission.RISK_REVIEW,
            Permission.DISPUTES_EVIDENCE,
        }
    ),
    AdminScope.COMPLIANCE: frozenset(
        {
            Permission.AUDIT_READ,
            Permission.OVERRIDES_READ,
            Permission.REPAIRS_REVEAL_IMEI,
            Permission.RATINGS_MODERATE,
            Permission.CHAT_MODERATE,
            Permission.USERS_MANAGE,
            Permission.APPEALS_DECIDE,
            Permission.BUSINESS_VERIFY,
            Permission.DEALERS_MANAGE,
            Permission.TECHNICIANS_MANAGE,
            Permission.DISPUTES_EVIDENCE,
        }
    ),
    AdminScope.FINANCE: frozenset(
        {
            Permission.COMMISSION_MANAGE,
            Permission.ESCROW_RELEASE,
            Permission.ESCROW_HOLD,
            Permission.REFUNDS_ISSUE,
            Permission.LEDGER_VERIFY,
            Permission.ALERTS_MANAGE,
            Permission.PAYOUT_ACCOUNTS_VERIFY,
            Permission.PAYOUTS_MANAGE,
        }
    ),
}
# The ops leader does what ops does, and alone holds the override rights.
OVERRIDE_PERMISSIONS = frozenset(
    {Permission.ORDERS_OVERRIDE, Permission.ESCROW_OVERRIDE, Permission.DISPUTES_OVERRIDE,
     Permission.REPAIRS_OVERRIDE, Permission.BLOCKS_LIFT}
)
_SCOPE_PERMISSIONS[AdminScope.OPS_LEAD] = _SCOPE_PERMISSIONS[AdminScope.OPS].union(
    OVERRIDE_PERMISSIONS, {Permission.OVERRIDES_READ}
)
# A superadmin holds every admin permission, plus creating admins; never a customer's,
# dealer's or technician's own permissions.
_SCOPE_PERMISSIONS[AdminScope.SUPERADMIN] = frozenset(
    {Permission.ADMINS_CREATE}.union(*_SCOPE_PERMISSIONS.values())
)

# What an account awaiting approval may still do: read itself and ask to be verified.
_PENDING_PERMISSIONS = frozenset(
    {Permission.PROFILE_READ, Permission.NOTIFICATIONS_READ, Permission.APPEALS_FILE,
     Permission.DEALER_PROFILE_SUBMIT, Permission.TECHNICIAN_PROFILE_SUBMIT}
)
# What a suspended account may still do after signing in again: read itself and its
# notifications, and appeal the suspension (routes holding no permission refuse it too).
_SUSPENDED_PERMISSIONS = frozenset(
    {Permission.PROFILE_READ, Permission.NOTIFICATIONS_READ, Permission.APPEALS_FILE}
)
_LIMITED_PERMISSIONS = {
    AccountStatus.PENDING: _PENDING_PERMISSIONS,
    AccountStatus.SUSPENDED: _SUSPENDED_PERMISSIONS,
}


def permissions_of(role: Role, scopes: list[str] | tuple[str, ...] = ()) -> frozenset[Permission]:
    granted = set(_ROLE_PERMISSIONS[role])
    if role is Role.ADMIN:
        for scope in scopes:
            granted |= _SCOPE_PERMISSIONS.get(AdminScope(scope), frozenset())
    return frozenset(granted)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in account, or the system itself for background jobs.

    Resolved once per request, with the dealer or technician profile the account acts for,
    so no package looks the caller's profile up again."""

    id: str
    role: Role
    scopes: tuple[str, ...] = ()
    status: AccountStatus = AccountStatus.ACTIVE
    buyer_type: str = "b2c"
    dealer_id: str | None = None
    technician_id: str | None = None
    permissions: frozenset[Permission] = field(default_factory=frozenset)
    session_id: str | None = None  # the sign-in session of the caller's access token

    @classmethod
    def of(cls, id: str, role: Role, scopes: tuple[str, ...] = (), **kwargs: object) -> "Actor":
        return cls(id=id, role=role, scopes=scopes, permissions=permissions_of(role, scopes),
                   **kwargs)  # type: ignore[arg-type]

    def can(self, permission: Permission) -> bool:
        limited_to = _LIMITED_PERMISSIONS.get(self.status)
        if limited_to is not None and permission not in limited_to:
            return False
        return permission in self.permissions

    def has_scope(self, scope: AdminScope) -> bool:
        return self.role is Role.ADMIN and (
            scope.value in self.scopes or AdminScope.SUPERADMIN.value in self.scopes
        )

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_system(self) -> bool:
        return self.role is Role.SYSTEM


SYSTEM_ACTOR = Actor(id="system", role=Role.SYSTEM)


def permission_table() -> list[tuple[str, list[str]]]:
    """Permission → the roles/scopes holding it, for the README and docs."""
    rows = []
    for permission in Permission:
        holders = [role.value for role, perms in _ROLE_PERMISSIONS.items() if permission in perms]
        if Role.ADMIN.value in holders:
            holders[holders.index(Role.ADMIN.value)] = "any admin"
        else:
            holders += [
                f"admin:{scope.value}"
                for scope, perms in _SCOPE_PERMISSIONS.items()
                if permission in perms
            ]
        rows.append((permission.value, holders))
    return rows
