"""HTTP only: the technician's payment terminal (quote, and the customer's acceptance)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path

from app.auth.dependencies import require
from app.core.errors import responses
from app.core.permissions import Permission
from app.core.schemas import Envelope, ok
from app.repairs import service, terminal
from app.repairs.schemas import QuoteIn, RepairRead

router = APIRouter(tags=["Repairs"], responses=responses(401, 403, 404))
RepairId = Annotated[str, Path(alias="repairId", max_length=64)]


@router.post("/api/repairs/{repairId}/quote", status_code=201,
             response_model=Envelope[RepairRead], responses=responses(409, 422))
async def propose_quote(
    repair_id: RepairId, body: QuoteIn, actor: require(Permission.REPAIRS_WORK)
) -> Any:
    """The assigned technician quotes the job (labour and part lines, paise); replaces an
    unaccepted quote."""
    repair = await terminal.propose_quote(actor, repair_id, body)
    return ok(service.read_model(repair, actor), "Quote proposed")


@router.post("/api/repairs/{repairId}/quote/accept", response_model=Envelope[RepairRead],
             responses=responses(409))
async def accept_quote(repair_id: RepairId, actor: require(Permission.REPAIRS_BOOK)) -> Any:
    """The customer accepts the proposed quote: its total is what the payment takes."""
    repair = await terminal.accept_quote(actor, repair_id)
    return ok(service.read_model(repair, actor), "Quote accepted")
