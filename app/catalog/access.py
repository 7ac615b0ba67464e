"""Who is looking at the catalogue, and what each caller may see of a product.

Kept free of other domains' imports: dealers and the catalogue import each other's services.
"""

from dataclasses import dataclass

from app.catalog.models import Product, ProductStatus
from app.core.permissions import Actor, Permission, Role


@dataclass(frozen=True)
class Viewer:
    """The caller as the catalogue sees it (anonymous when `actor` is None)."""

    actor: Actor | None = None
    dealer_id: str | None = None  # the caller's own dealer profile, if it is a dealer

    @property
    def is_admin(self) -> bool:
        return self.actor is not None and self.actor.is_admin

    @property
    def is_b2b_buyer(self) -> bool:
        """A customer whose business an admin verified: the B2B channel."""
        return (
            self.actor is not None
            and self.actor.role is Role.CUSTOMER
            and self.actor.buyer_type == "b2b"
        )

    @property
    def can_moderate(self) -> bool:
        return self.actor is not None and self.actor.is_admin and self.actor.can(
            Permission.PRODUCTS_MODERATE
        )

    def owns(self, product: Product) -> bool:
        return self.dealer_id is not None and product.dealer_id == self.dealer_id

    def manages(self, product: Product) -> bool:
        """Owner or admin: sees every status and the product's internals."""
        return self.is_admin or self.owns(product)

    def sees_trade_prices(self, product: Product) -> bool:
        return self.is_b2b_buyer or self.manages(product)

    def may_see(self, product: Product) -> bool:
        publicly_listed = product.status is ProductStatus.ACTIVE and product.dealer_listed
        return publicly_listed or self.manages(product)

    @property
    def price_field(self) -> str:
        """The price the caller buys at: what browse filters and sorts on."""
        return "b2b_price" if self.is_b2b_buyer else "b2c_price"


ANONYMOUS = Viewer()
