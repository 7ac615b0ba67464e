"""In which capacity an actor acts on an order: the viewer policy's relations, narrowed to
the parties of the transition table (a dealer fulfils only with ORDERS_FULFIL, an admin acts
only with ORDERS_OVERRIDE)."""

from dataclasses import dataclass

from app.core.permissions import Actor, Permission
from app.core.policy import Relation, relations
from app.orders.models import Order, Party
from app.orders.transitions import allowed_actions


def parties(actor: Actor, order: Order) -> frozenset[Party]:
    related = relations(actor, order.owners)
    found: set[Party] = set()
    if actor.is_system:
        found.add(Party.SYSTEM)
    if Relation.BUYER in related:
        found.add(Party.BUYER)
    if Relation.DEALER in related and actor.can(Permission.ORDERS_FULFIL):
        found.add(Party.DEALER)
    if actor.can(Permission.ORDERS_OVERRIDE):
        found.add(Party.ADMIN)
    return frozenset(found)


@dataclass(frozen=True)
class OrderView:
    """An order with the actions the actor looking at it may take."""

    order: Order
    allowed_actions: list[str]


def view(actor: Actor, order: Order) -> OrderView:
    return OrderView(order, allowed_actions(order.status, parties(actor, order)))
