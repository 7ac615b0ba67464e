"""Who is looking at the catalogue, and what each caller may see of a product.

The caller's dealer profile comes from `actor.dealer_id` (resolved once per request) and
ownership from the one viewer policy (`app.core.policy`); nothing is looked up here.
"""

import json
from dataclasses import dataclass

from app.catalog.models import Product, ProductStatus, ProductWithStock
from app.catalog.schemas import PriceChangeRead, ProductRead
from app.core.permissions import Actor, Role
from app.core.policy import Owners, Relation, relations


@dataclass(frozen=True)
class Viewer:
    """The caller as the catalogue sees it (anonymous when `actor` is None)."""

    actor: Actor | None = None

    @property
    def is_admin(self) -> bool:
        return self.actor is not None and self.actor.is_admin

    @property
    def is_b2b_buyer(self) -> bool:
        """A customer or technician whose business an admin verified: the B2B channel."""
        return (
            self.actor is not None
            and self.actor.role in (Role.CUSTOMER, Role.TECHNICIAN)
            and self.actor.buyer_type == "b2b"
        )

    def acts_for(self, dealer_id: str) -> bool:
        """The caller is this dealer's own account."""
        return Relation.DEALER in relations(self.actor, Owners(dealer_id=dealer_id))

    def manages_dealer(self, dealer_id: str) -> bool:
        """The dealer itself or an admin: sees all its products and its stock."""
        return self.is_admin or self.acts_for(dealer_id)

    def manages(self, product: Product) -> bool:
        """Owner or admin: sees every status and the product's internals."""
        return self.manages_dealer(product.dealer_id)

    def sees_trade_prices(self, product: Product) -> bool:
        return self.is_b2b_buyer or self.manages(product)

    def may_see(self, product: Product) -> bool:
        publicly_listed = product.status is ProductStatus.ACTIVE and product.dealer_listed
        return publicly_listed or self.manages(product)

    @property
    def price_field(self) -> str:
        """The price the caller buys at: what browse filters and sorts on."""
        return "b2b_price" if self.is_b2b_buyer else "b2c_price"


def present(viewer: Viewer, item: ProductWithStock, with_history: bool = True) -> ProductRead:
    """The product as `viewer` may see it: trade prices and internals only when allowed."""
    product = item.product
    trade, manages = viewer.sees_trade_prices(product), viewer.manages(product)
    return _read(product, item.available, trade, manages, with_history)


def _read(
    product: Product, available: int, trade: bool, manages: bool, with_history: bool
) -> ProductRead:
    return ProductRead(
        id=product.id, dealer_id=product.dealer_id, sku=product.sku, title=product.title,
        brand=product.brand, category=product.category,
        compatible_models=product.compatible_models, description=product.description,
        b2c_price=product.b2c_price, mrp=product.mrp,
        b2b_price=product.b2b_price if trade else None,
        min_b2b_quantity=product.min_b2b_quantity if trade else None,
        status=product.status, available=available, in_stock=available > 0,
        pause_reason=product.pause_reason if manages else None,
        price_history=[PriceChangeRead.model_validate(change) for change in product.price_history]
        if manages and with_history else None,
        version=product.version if manages else None,
        created_at=product.created_at, updated_at=product.updated_at,
    )


# --- a listed product as browse sends it (pre-rendered per kind of caller) -------------

PUBLIC_VIEW, TRADE_VIEW, MANAGER_VIEW = 0, 1, 2
_STOCK_KEYS = ("available", "inStock")


def view_for(viewer: Viewer, dealer_id: str) -> int:
    """Which pre-rendered view of a listed product `viewer` gets; the same rules as `present`:
    the dealer itself and admins everything, B2B buyers trade prices, everyone else neither."""
    if viewer.manages_dealer(dealer_id):
        return MANAGER_VIEW
    return TRADE_VIEW if viewer.is_b2b_buyer else PUBLIC_VIEW


def listed_views(product: Product) -> tuple[bytes, bytes, bytes]:
    """The JSON of a listed product for each view (indexed by PUBLIC/TRADE/MANAGER_VIEW),
    each without its stock keys and closing brace: `listed_json` appends the live stock."""
    views = []
    for trade, manages in ((False, False), (True, False), (True, True)):
        data = _read(product, 0, trade, manages, with_history=False).model_dump(
            mode="json", by_alias=True
        )
        for key in _STOCK_KEYS:
            data.pop(key)
        views.append(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()[:-1])
    return views[0], views[1], views[2]


def listed_json(view: bytes, available: int) -> bytes:
    """A pre-rendered view completed with the product's live stock."""
    return b'%s,"available":%d,"inStock":%s}' % (
        view, available, b"true" if available > 0 else b"false"
    )
