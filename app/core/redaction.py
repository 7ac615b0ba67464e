"""Who acted, as a viewer may see it: admins' ids are shown to admins (and the system) only.

Everyone else sees that an admin acted, never which one: an admin's user id is an internal
handle, and showing it to buyers and dealers invites targeting that admin.
"""

from typing import Literal

from app.core.permissions import Actor
from app.core.schemas import APIModel


class AdminRef(APIModel):
    """An admin acted; which one is shown to admins only."""

    role: Literal["admin"] = "admin"


ShownActor = str | AdminRef


def sees_admin_ids(viewer: Actor | None) -> bool:
    return viewer is not None and (viewer.is_admin or viewer.is_system)


def shown_actor(viewer: Actor | None, actor_id: str, by_admin: bool) -> ShownActor:
    """`actor_id` as `viewer` may see it: an admin's id becomes `{"role": "admin"}` for
    anyone but admins; a buyer's, dealer's or the system's id is shown as it is."""
    if by_admin and not sees_admin_ids(viewer):
        return AdminRef()
    return actor_id
