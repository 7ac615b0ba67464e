"""The outbox: a notification committed with its change but never pushed (the process died
between the commit and the push) is pushed by the outbox job, once, even when another
instance read it as due too, and then never again."""

from datetime import timedelta

import httpx
import pytest

from app.core import clock
from app.core.database import transaction
from app.notifications import repository, service
from app.notifications import tasks as notification_tasks
from app.notifications.models import Notification
from tests.helpers import Api
from tests.notifications.sockets import listening


def _written_with_its_change(user_id: str, order_id: str) -> Notification:
    now = clock.utcnow()
    return Notification(
        id=f"order-shipped:{order_id}", user_id=user_id, kind="order_shipped",
        subject_type="order", subject_id=order_id, message="Your order has shipped.",
        created_at=now, push_after=now + timedelta(seconds=service.PUSH_GRACE_SECONDS))


@pytest.mark.settings(background_tasks_enabled=False)
async def test_unpushed_notifications_are_pushed_once_by_the_outbox(live_server, mongo_db):
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as http:
        buyer = await Api(http).customer()
    notes = [_written_with_its_change(buyer.id, order_id) for order_id in ("ord_a", "ord_b")]
    for note in notes:
        # What `notify` writes in the change's transaction; the process dies before its push.
        assert await transaction(lambda session, note=note: repository.insert_once(session, note))

    async with listening(live_server, buyer) as socket:
        # Within the grace the writer may still push them itself: the outbox leaves them.
        assert await notification_tasks.push_unpushed() is False
        assert await mongo_db.notifications.count_documents({"push_claims": 0}) == 2

        clock.advance(timedelta(seconds=service.PUSH_GRACE_SECONDS + 1))
        # Another instance reads them as due too, then this one's job pushes them first.
        read_elsewhere = await repository.due_for_push(clock.utcnow(), 10)
        assert [n.id for n in read_elsewhere] == [n.id for n in notes]
        assert await notification_tasks.push_unpushed() is False
        pushed = [await socket.next(), await socket.next()]
        # The other instance's pushes find them claimed (a conditional update): none is sent.
        assert [await service.push(note) for note in read_elsewhere] == [False, False]

        assert sorted((n["id"], n["kind"]) for n in pushed) == [
            (note.id, "order_shipped") for note in notes]
        for stored in await mongo_db.notifications.find({"user_id": buyer.id}).to_list():
            assert stored["pushed_at"] is not None and stored["push_claims"] == 1
            assert "push_after" not in stored

        clock.advance(timedelta(minutes=5))
        await notification_tasks.push_unpushed()  # a later run: nothing is due any more
        await service.notify(None, key="sentinel", user_id=buyer.id, kind="test",
                             subject_type="user", subject_id=buyer.id, message="sentinel")
        # Events arrive in order: had either been sent again, it would come before this one.
        assert (await socket.next())["id"] == "sentinel"
    assert await mongo_db.notifications.count_documents({"user_id": buyer.id}) == 3
