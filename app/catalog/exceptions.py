from app.core.errors import Conflict, Forbidden, IllegalTransition, NotFound, RuleViolation


class ProductNotFound(NotFound):
    default_message = "Product not found"


class DealerNotFound(NotFound):
    default_message = "Dealer not found"


class InventoryNotFound(NotFound):
    default_message = "Inventory not found"


class SkuTaken(Conflict):
    default_message = "You already have a product with this SKU"


class DuplicateListing(Conflict):
    default_message = "You already list this part (same brand, title and compatible models)"


class ProductChanged(Conflict):
    default_message = "The product changed meanwhile; reload it and retry"


class IllegalProductTransition(IllegalTransition):
    default_message = "This status change is not allowed"


class ModerationOnly(Forbidden):
    default_message = "Admins may only pause a product or lift a pause; the listing is the dealer's"


class PricingRuleViolation(RuleViolation):
    default_message = "The prices break the pricing rules"


class StockBelowReserved(RuleViolation):
    default_message = "Stock cannot be set below what is reserved"


class StockNotReserved(Conflict):
    """Committing more than is reserved: the reservation was released or never made."""

    default_message = "Not enough reserved stock to commit"
