"""HTTP only: the product and inventory routes parse, call a use case, return the schema."""

import json
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.auth.dependencies import CurrentActor, OptionalActor, require
from app.catalog import browse, inventory, listing
from app.catalog.models import ProductStatus
from app.catalog.schemas import (
    MAX_PRICE,
    BrowseFilters,
    InventoryItemRead,
    InventoryUpdate,
    InventoryUpdateResult,
    ProductCreate,
    ProductRead,
    ProductSort,
    ProductUpdate,
)
from app.core.context import current_trace_id
from app.core.errors import responses
from app.core.pagination import Pagination
from app.core.permissions import Permission
from app.core.schemas import Envelope, Page, ok
from app.core.validators import Reason
from app.platform_rules.categories import ProductCategory

router = APIRouter(responses=responses(401, 403))
ProductId = Annotated[str, Path(alias="productId", max_length=64)]
DealerId = Annotated[str, Path(alias="dealerId", max_length=64)]
ProductWriter = require(Permission.PRODUCTS_WRITE)
InventoryWriter = require(Permission.INVENTORY_WRITE)


@router.post("/api/products", status_code=201, tags=["Products"], responses=responses(409, 422))
async def create_product(body: ProductCreate, actor: ProductWriter) -> Envelope[ProductRead]:
    """List a new product with its opening stock (approved dealers only)."""
    return ok(await listing.create_product(actor, body), "Product created")


@router.get(
    "/api/products", tags=["Products"], responses=responses(400, 422),
    response_model=Envelope[Page[ProductRead]],
)
async def browse_products(
    actor: OptionalActor,
    page: Pagination,
    q: Annotated[str | None, Query(max_length=100, description="Words of title, brand, models")]
    = None,
    category: ProductCategory | None = None,
    brand: Annotated[str | None, Query(max_length=80)] = None,
    model: Annotated[str | None, Query(max_length=80, description="A compatible model")] = None,
    dealer_id: Annotated[str | None, Query(alias="dealerId", max_length=64)] = None,
    min_price: Annotated[int | None, Query(alias="minPrice", ge=0, le=MAX_PRICE)] = None,
    max_price: Annotated[int | None, Query(alias="maxPrice", ge=0, le=MAX_PRICE)] = None,
    in_stock: Annotated[bool, Query(alias="inStock")] = False,
    sort: ProductSort = ProductSort.NEWEST,
) -> Response:
    """Browse listed products; prices (and the price filter/sort) follow the caller's channel."""
    filters = BrowseFilters(
        q=q, category=category, brand=brand, model=model, dealer_id=dealer_id,
        min_price=min_price, max_price=max_price, in_stock=in_stock, sort=sort,
    )
    items, next_cursor = await browse.browse(actor, filters, page)
    return _page_response(items, next_cursor)


def _page_response(items: list[bytes], next_cursor: str | None) -> Response:
    """The envelope of a page whose items come pre-rendered as JSON (ProductRead by alias)."""
    body = b"".join((
        b'{"success":true,"message":"OK","data":{"items":[', b",".join(items),
        b'],"nextCursor":', json.dumps(next_cursor).encode(), b'},"traceId":',
        json.dumps(current_trace_id()).encode(), b"}",
    ))
    return Response(body, media_type="application/json")


@router.get("/api/products/{productId}", tags=["Products"], responses=responses(404))
async def get_product(product_id: ProductId, actor: OptionalActor) -> Envelope[ProductRead]:
    """One product; unlisted ones only for their dealer and admins."""
    return ok(await browse.get_product(actor, product_id))


@router.patch("/api/products/{productId}", tags=["Products"], responses=responses(404, 409, 422))
async def update_product(
    product_id: ProductId, body: ProductUpdate, actor: CurrentActor
) -> Envelope[ProductRead]:
    """The dealer edits its listing or (de)activates it; admins pause it or lift a pause."""
    return ok(await listing.update_product(actor, product_id, body), "Product updated")


@router.delete("/api/products/{productId}", tags=["Products"], responses=responses(404, 409))
async def archive_product(
    product_id: ProductId, actor: CurrentActor, reason: Annotated[Reason | None, Query()] = None
) -> Envelope[ProductRead]:
    """Archive a product (it is never deleted: orders keep referring to it)."""
    return ok(await listing.archive_product(actor, product_id, reason), "Product archived")


@router.get("/api/dealers/{dealerId}/products", tags=["Products"], responses=responses(404))
async def dealer_products(
    dealer_id: DealerId,
    actor: OptionalActor,
    page: Pagination,
    status: ProductStatus | None = None,
) -> Envelope[Page[ProductRead]]:
    """A dealer's products, newest first; the dealer and admins also see unlisted ones."""
    items, next_cursor = await browse.list_dealer_products(actor, dealer_id, status, page)
    return ok(Page[ProductRead](items=items, next_cursor=next_cursor))


@router.get("/api/inventory/{dealerId}", tags=["Inventory"], responses=responses(404))
async def list_inventory(
    dealer_id: DealerId,
    actor: CurrentActor,
    page: Pagination,
    low_stock: Annotated[bool, Query(alias="lowStock", description="Only low-stock items")] = False,
) -> Envelope[Page[InventoryItemRead]]:
    """A dealer's stock per product with low-stock flags (the dealer and admins)."""
    items, next_cursor = await inventory.list_inventory(actor, dealer_id, low_stock, page)
    return ok(Page[InventoryItemRead](items=items, next_cursor=next_cursor))


@router.patch("/api/inventory/{dealerId}", tags=["Inventory"], responses=responses(404, 422))
async def set_stock(
    dealer_id: DealerId, body: InventoryUpdate, actor: InventoryWriter
) -> Envelope[InventoryUpdateResult]:
    """Set stock for several products at once; all or nothing, never below what is reserved."""
    items = await inventory.set_stock(actor, dealer_id, body)
    return ok(InventoryUpdateResult(items=items), "Stock updated")
