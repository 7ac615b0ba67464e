"""The product state machine: one table of (state, new state) → who may make the move.

    active   ⇄ inactive            the owning dealer
    active, inactive ─→ paused     a moderating admin, with a reason
    paused   ─→ active, inactive   a moderating admin (lifting the pause)

Archiving (DELETE) is apart from the table: the dealer or a moderator archives a product in
any status but archived, and nothing moves an archived product again.
"""

from enum import StrEnum

from app.catalog.models import ProductStatus

S = ProductStatus


class Mover(StrEnum):
    OWNER = "owner"
    MODERATOR = "moderator"


TRANSITIONS: dict[tuple[ProductStatus, ProductStatus], Mover] = {
    (S.ACTIVE, S.INACTIVE): Mover.OWNER,
    (S.INACTIVE, S.ACTIVE): Mover.OWNER,
    (S.ACTIVE, S.PAUSED): Mover.MODERATOR,
    (S.INACTIVE, S.PAUSED): Mover.MODERATOR,
    (S.PAUSED, S.ACTIVE): Mover.MODERATOR,
    (S.PAUSED, S.INACTIVE): Mover.MODERATOR,
}


def allowed_targets(status: ProductStatus, mover: Mover) -> set[ProductStatus]:
    """Where `mover` may move a product that is in `status`."""
    return {target for (source, target), who in TRANSITIONS.items()
            if source is status and who is mover}
