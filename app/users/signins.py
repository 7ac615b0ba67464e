"""An account's sign-in sessions: attach a new one, end some or all, list them, and the
password change that ends every other one.

The account's `session_ids` is the list of its live sessions; every change to it happens in
the same transaction as the sessions' own start or end (app/sessions), and connections made
with an ended session are disconnected after the commit."""

from dataclasses import dataclass

from app.audit import service as audit
from app.core import clock
from app.core.config import settings
from app.core.database import Session, transaction
from app.core.errors import RuleViolation
from app.core.permissions import Actor, AdminScope, Role
from app.core.security import hash_password, verify_password
from app.realtime import events
from app.sessions import service as sessions
from app.sessions.models import SignInSession
from app.users import repository
from app.users.exceptions import AdminOnlyBySuperadmin, SessionNotFound, UserNotFound
from app.users.models import User

MAX_DEVICES_PER_ACCOUNT = 50


@dataclass(frozen=True)
class Attached:
    ended_session_ids: list[str]  # the oldest sessions pushed out past the bound
    new_device: bool  # first sign-in of the account from this X-Device-Id


async def attach(session: Session, user: User, session_id: str, device_id: str | None) -> Attached:
    """Make a just-started session live on the account (inside the sign-in's transaction)."""
    pushed_out = await repository.add_session(
        session, user.id, session_id, settings().auth.max_sessions_per_account
    )
    if pushed_out is None:
        raise UserNotFound
    if pushed_out:
        await sessions.end(session, user.id, pushed_out)
    new_device = device_id is not None and await repository.add_device(
        session, user.id, device_id, MAX_DEVICES_PER_ACCOUNT
    )
    return Attached(pushed_out, new_device)


async def end(session: Session, user_id: str, session_ids: list[str]) -> list[str]:
    """End these sessions of the account (inside the caller's transaction); those that were live."""
    ended = await repository.remove_sessions(session, user_id, session_ids)
    await sessions.end(session, user_id, session_ids)
    return ended


async def end_all(session: Session, user_id: str, keep: str | None = None) -> list[str]:
    """End every session of the account but `keep`; the ids that were live."""
    ended = await repository.keep_sessions(session, user_id, [keep] if keep else [])
    await sessions.end_all(session, user_id, keep)
    return ended


async def list_own(actor: Actor) -> list[SignInSession]:
    """The caller's live sessions, newest first."""
    user = await repository.get_account(actor.id)
    if user is None:
        raise UserNotFound
    return await sessions.list_live(user.id, user.session_ids)


async def end_own(actor: Actor, session_id: str) -> None:
    """The caller ends one of its own sessions (404 for any other)."""
    await _end_one(actor, actor.id, session_id, "auth.session_ended", reason=None)


async def end_for_user(actor: Actor, user_id: str, session_id: str, reason: str | None) -> None:
    """An admin ends one session of an account (404 if the account or session is not there)."""
    target = await repository.get_visible(actor, user_id)
    if target is None:
        raise UserNotFound
    if target.role is Role.ADMIN and target.id != actor.id and not actor.has_scope(
        AdminScope.SUPERADMIN
    ):
        raise AdminOnlyBySuperadmin("Only a superadmin may end another admin's session")
    await _end_one(actor, target.id, session_id, "user.session_ended_by_admin", reason)


async def _end_one(
    actor: Actor, user_id: str, session_id: str, action: str, reason: str | None
) -> None:
    async def work(session: Session) -> None:
        if not await end(session, user_id, [session_id]):
            raise SessionNotFound
        await audit.record(
            session, actor=actor, action=action, subject_type="user", subject_id=user_id,
            reason=reason, metadata={"sessionId": session_id},
        )

    await transaction(work)
    await events.disconnect_sessions([session_id])


async def change_password(actor: Actor, current_password: str, new_password: str) -> int:
    """Change the caller's password; every other session ends, the calling one stays live.
    A wrong current password is a 422 on `currentPassword`. Returns how many sessions ended."""
    user = await repository.get_account(actor.id)
    if user is None:
        raise UserNotFound
    if not await verify_password(current_password, user.password_hash):
        raise RuleViolation(
            "The current password is not correct",
            {"errors": [{"field": "body.currentPassword", "message": "incorrect"}]},
        )
    new_hash = await hash_password(new_password)

    async def work(session: Session) -> list[str]:
        if not await repository.set_password(
            session, user.id, user.password_hash, new_hash, clock.utcnow()
        ):
            raise RuleViolation("The password changed meanwhile; sign in again")
        ended = await end_all(session, user.id, keep=actor.session_id)
        await audit.record(
            session, actor=actor, action="user.password_changed", subject_type="user",
            subject_id=user.id, metadata={"endedSessions": len(ended)},
        )
        return ended

    ended = await transaction(work)
    await events.disconnect_sessions(ended)
    return len(ended)
