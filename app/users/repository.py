"""Every query on accounts. Reads for a caller take its `Actor`: admins holding USERS_READ
see every account, anyone else only its own. `get_account` and `get_by_email` are system
reads, for resolving who is calling and signing in."""

from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.core.database import Session
from app.core.pagination import PageRequest, match, paginate
from app.core.permissions import AccountStatus, Actor, Permission, Role
from app.core.policy import OwnerFields, Owners, may_see, sees_all, visibility_filter
from app.core.queues import QueuePosition, Waiting, oldest_waiting
from app.users.exceptions import EmailTaken
from app.users.models import BusinessVerification, BuyerType, User

# An account is its own owner: the policy's buyer relation, on the account's own id.
_OWN_ACCOUNT = OwnerFields(buyer="_id")


def _users():  # type: ignore[no-untyped-def]
    return User.get_pymongo_collection()


async def get_account(user_id: str) -> User | None:
    """The account by id (one `find` by `_id`: the caller is resolved with it per request)."""
    return _account(await _users().find_one({"_id": user_id}))


def _account(doc: dict[str, Any] | None) -> User | None:
    # A plain find rather than Beanie's `User.get`, which sends a projection of every field
    # that the embedded server evaluates on each read, and costs the API CPU besides.
    return User.model_validate(doc) if doc else None


async def get_by_email(email: str) -> User | None:
    return await User.find_one(User.email == email)


async def get_visible(actor: Actor, user_id: str) -> User | None:
    """The account if `actor` may see it, else None (as if it did not exist)."""
    if not may_see(actor, Owners(buyer_id=user_id), Permission.USERS_READ):
        return None
    return _account(await _users().find_one({"_id": user_id}))


async def list_visible(
    actor: Actor,
    role: Role | None,
    status: AccountStatus | None,
    pending_approval: bool | None,
    page: PageRequest,
) -> tuple[list[User], str | None]:
    """One page, newest first, of the accounts `actor` may see that match the filters."""
    query = match({"role": role, "status": status})
    if pending_approval is not None:
        awaiting = [
            {"status": AccountStatus.PENDING.value},
            {"business.verification": BusinessVerification.PENDING.value},
        ]
        query["$or" if pending_approval else "$nor"] = awaiting
    scope = visibility_filter(actor, _OWN_ACCOUNT, Permission.USERS_READ)
    docs, next_cursor = await paginate(_users(), {"$and": [query, scope]} if scope else query, page)
    return [User.model_validate(doc) for doc in docs], next_cursor


async def any_admin_exists() -> bool:
    return await User.find_one(User.role == Role.ADMIN) is not None


async def insert(session: Session, user: User) -> None:
    """Insert a new account; EmailTaken if its email is already in use."""
    try:
        await user.insert(session=session)
    except DuplicateKeyError:
        raise EmailTaken from None


async def update_if(
    session: Session, user_id: str, expected: dict[str, Any], changes: dict[str, Any]
) -> bool:
    """Set `changes` only while the account's fields still hold `expected`; True if it did."""
    result = await _users().update_one(
        {"_id": user_id, **expected}, {"$set": changes}, session=session
    )
    return result.modified_count == 1


async def set_business_verification(
    session: Session,
    user_id: str,
    current: BusinessVerification,
    new_state: BusinessVerification,
    reason: str | None,
    verified_at: datetime | None,
    buyer_type: BuyerType,
    now: datetime,
) -> bool:
    """Move the business application from `current` to `new_state`; False if it moved meanwhile."""
    return await update_if(
        session, user_id, {"business.verification": current.value},
        {"business.verification": new_state.value, "business.reason": reason,
         "business.verified_at": verified_at, "buyer_type": buyer_type.value, "updated_at": now},
    )


async def link_dealer_profile(session: Session, user_id: str, dealer_id: str) -> None:
    await _users().update_one({"_id": user_id}, {"$set": {"dealer_id": dealer_id}}, session=session)


async def link_technician_profile(session: Session, user_id: str, technician_id: str) -> None:
    await _users().update_one(
        {"_id": user_id}, {"$set": {"technician_id": technician_id}}, session=session
    )


async def add_session(
    session: Session, user_id: str, session_id: str, max_sessions: int
) -> list[str] | None:
    """Add a live session, keeping the newest `max_sessions`; the ids pushed out (None if
    the account is gone)."""
    before = await _users().find_one_and_update(
        {"_id": user_id},
        {"$push": {"session_ids": {"$each": [session_id], "$slice": -max_sessions}}},
        projection={"session_ids": 1}, session=session,
    )
    if before is None:
        return None
    ids = [*before.get("session_ids", []), session_id]
    return ids[: max(0, len(ids) - max_sessions)]


async def add_device(session: Session, user_id: str, device_id: str, max_devices: int) -> bool:
    """Remember a device; True only for the one call that found it new."""
    result = await _users().update_one(
        {"_id": user_id, "device_ids": {"$ne": device_id}},
        {"$push": {"device_ids": {"$each": [device_id], "$slice": -max_devices}}},
        session=session,
    )
    return result.modified_count == 1


async def remove_sessions(session: Session, user_id: str, session_ids: list[str]) -> list[str]:
    """Drop these sessions from the live ones; the ids that were live."""
    before = await _users().find_one_and_update(
        {"_id": user_id}, {"$pull": {"session_ids": {"$in": session_ids}}},
        projection={"session_ids": 1}, session=session,
    )
    live = set(before.get("session_ids", [])) if before else set()
    return [sid for sid in session_ids if sid in live]


async def keep_sessions(session: Session, user_id: str, keep: list[str]) -> list[str]:
    """Make `keep` the account's only live sessions; the ids that were live and are not kept."""
    before = await _users().find_one_and_update(
        {"_id": user_id}, {"$set": {"session_ids": keep}},
        projection={"session_ids": 1}, session=session,
    )
    return [sid for sid in (before or {}).get("session_ids", []) if sid not in keep]


async def set_password(
    session: Session, user_id: str, old_hash: str, new_hash: str, now: datetime
) -> bool:
    """Replace the password hash while it is still `old_hash`; False if it changed meanwhile."""
    return await update_if(
        session, user_id, {"password_hash": old_hash},
        {"password_hash": new_hash, "updated_at": now},
    )


_AWAITING_BUSINESS_REVIEW = {"business.verification": BusinessVerification.PENDING.value}


async def awaiting_business_review(
    actor: Actor, after: QueuePosition | None, limit: int
) -> list[Waiting]:
    """B2B applicants whose business waits for verification, oldest signup first (the
    `by_business_verification` index): the business is given at signup."""
    if not sees_all(actor, Permission.GOVERNANCE_READ):
        return []
    return await oldest_waiting(_users(), _AWAITING_BUSINESS_REVIEW, "created_at", after, limit)


async def count_awaiting_business_review(actor: Actor) -> int:
    if not sees_all(actor, Permission.GOVERNANCE_READ):
        return 0
    return int(await _users().count_documents(_AWAITING_BUSINESS_REVIEW))
