"""The one viewer policy: how an actor relates to an object, and what it may therefore see.

An object names its owners (`Owners`); an actor relates to it as its buyer, its dealer, its
technician, or not at all. Admins holding a domain's read-all permission and the system see
everything. Repositories turn the same rule into a query filter, so a list and a single read
can never disagree about what a caller may see.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.core.permissions import Actor, Permission


class Relation(StrEnum):
    BUYER = "buyer"
    DEALER = "dealer"
    TECHNICIAN = "technician"


@dataclass(frozen=True)
class Owners:
    """Who an object belongs to: the account that bought, the dealer and technician profiles."""

    buyer_id: str | None = None
    dealer_id: str | None = None
    technician_id: str | None = None


@dataclass(frozen=True)
class OwnerFields:
    """The document fields that hold an object's owners, for query filters."""

    buyer: str | None = None
    dealer: str | None = None
    technician: str | None = None


def relations(actor: Actor | None, owners: Owners) -> frozenset[Relation]:
    if actor is None:
        return frozenset()
    found = set()
    if owners.buyer_id is not None and actor.id == owners.buyer_id:
        found.add(Relation.BUYER)
    if owners.dealer_id is not None and actor.dealer_id == owners.dealer_id:
        found.add(Relation.DEALER)
    if owners.technician_id is not None and actor.technician_id == owners.technician_id:
        found.add(Relation.TECHNICIAN)
    return frozenset(found)


def sees_all(actor: Actor | None, read_all: Permission | None) -> bool:
    """The system, or an admin holding the domain's read-all permission."""
    if actor is None:
        return False
    return actor.is_system or (read_all is not None and actor.can(read_all))


def may_see(actor: Actor | None, owners: Owners, read_all: Permission | None) -> bool:
    return sees_all(actor, read_all) or bool(relations(actor, owners))


NOTHING: dict[str, Any] = {"_id": {"$in": []}}


def visibility_filter(
    actor: Actor | None, fields: OwnerFields, read_all: Permission | None
) -> dict[str, Any]:
    """The query filter that keeps only what `actor` may see (`{}` when it sees all)."""
    if sees_all(actor, read_all):
        return {}
    if actor is None:
        return NOTHING
    clauses: list[dict[str, Any]] = []
    if fields.buyer:
        clauses.append({fields.buyer: actor.id})
    if fields.dealer and actor.dealer_id:
        clauses.append({fields.dealer: actor.dealer_id})
    if fields.technician and actor.technician_id:
        clauses.append({fields.technician: actor.technician_id})
    if not clauses:
        return NOTHING
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}
