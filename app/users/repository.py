"""Every query on accounts. Reads for a caller take its `Actor`: admins holding USERS_READ
see every account, anyone else only its own. `get_account` and `get_by_email` are system
reads, for resolving who is calling and signing in."""

from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.core.database import Session
from app.core.pagination import PageRequest, match, paginate
from app.core.permissions import AccountStatus, Actor, Permission, Role
from app.core.policy import OwnerFields, Owners, may_see, visibility_filter
from app.users.exceptions import EmailTaken
from app.users.models import BusinessVerification, BuyerType, User

# An account is its own owner: the policy's buyer relation, on the account's own id.
_OWN_ACCOUNT = OwnerFields(buyer="_id")


def _users():  # type: ignore[no-untyped-def]
    return User.get_pymongo_collection()


async def get_account(user_id: str) -> User | None:
    return await User.get(user_id)


async def get_by_email(email: str) -> User | None:
    return await User.find_one(User.email == email)


async def get_visible(actor: Actor, user_id: str) -> User | None:
    """The account if `actor` may see it, else None (as if it did not exist)."""
    if not may_see(actor, Owners(buyer_id=user_id), Permission.USERS_READ):
        return None
    return await User.get(user_id)


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
