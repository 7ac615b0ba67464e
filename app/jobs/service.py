"""A "job" is what people talk about: a repair (`rep_…`) or a parts order (`ord_…`).

Chat, media and calls all ask the same question — may this actor take part in this job, and
who are its two parties — and get the answer here. The parties of a repair are its customer
and its assigned technician; of an order, its buyer and its dealer. Admins take part in
every job; anyone else is told the job does not exist (404).
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.core.permissions import Actor
from app.dealers import service as dealers_service
from app.jobs.exceptions import JobNotFound
from app.orders import service as orders_service
from app.orders.exceptions import OrderNotFound
from app.orders.models import Order, OrderStatus
from app.repairs import service as repairs_service
from app.repairs.models import Repair, RepairStatus


class JobKind(StrEnum):
    REPAIR = "repair"
    ORDER = "order"


@dataclass(frozen=True)
class Job:
    id: str
    kind: JobKind
    # The account ids of the job's two parties: the customer (or buyer) first, then the
    # technician (or the dealer's account); None while a repair has no technician.
    customer_user_id: str
    provider_user_id: str | None
    status: str
    # When the job finished (repair completed; order completed), else None.
    finished_at: datetime | None

    @property
    def party_user_ids(self) -> tuple[str, ...]:
        return tuple(uid for uid in (self.customer_user_id, self.provider_user_id) if uid)

    def is_party(self, actor: Actor) -> bool:
        return actor.id in self.party_user_ids

    def other_party(self, actor: Actor) -> str | None:
        """The other party's account id, for a party; None for anyone else."""
        if actor.id == self.customer_user_id:
            return self.provider_user_id
        if actor.id == self.provider_user_id:
            return self.customer_user_id
        return None


def kind_of(job_id: str) -> JobKind | None:
    if job_id.startswith("rep_"):
        return JobKind.REPAIR
    if job_id.startswith("ord_"):
        return JobKind.ORDER
    return None


async def get_job(job_id: str) -> Job | None:
    """The job whoever asks (for jobs and broadcasts); None when there is no such job."""
    kind = kind_of(job_id)
    if kind is JobKind.REPAIR:
        repair = await repairs_service.get_repair(job_id)
        return _of_repair(repair) if repair is not None else None
    if kind is JobKind.ORDER:
        try:
            order = await orders_service.get_order(job_id)
        except OrderNotFound:
            return None
        dealer = await dealers_service.get_dealer(order.dealer_id)
        return _of_order(order, dealer.user_id if dealer is not None else None)
    return None


async def participant_job(actor: Actor, job_id: str) -> Job:
    """The job if `actor` takes part in it (a party or an admin); 404 for anyone else."""
    job = await get_job(job_id)
    if job is None or not (actor.is_admin or job.is_party(actor)):
        raise JobNotFound
    return job


def _of_repair(repair: Repair) -> Job:
    return Job(
        id=repair.id, kind=JobKind.REPAIR, customer_user_id=repair.customer_id,
        provider_user_id=repair.technician_user_id, status=repair.status.value,
        finished_at=repair.completed_at if repair.status is RepairStatus.COMPLETED else None,
    )


def _of_order(order: Order, dealer_user_id: str | None) -> Job:
    finished = next((change.at for change in reversed(order.status_history)
                     if change.to_status is OrderStatus.COMPLETED), None)
    return Job(
        id=order.id, kind=JobKind.ORDER, customer_user_id=order.buyer_id,
        provider_user_id=dealer_user_id, status=order.status.value, finished_at=finished,
    )
