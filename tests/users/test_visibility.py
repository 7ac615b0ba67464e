"""Account reads are scoped to the caller: admins with users:read see all, others themselves."""

import pytest

from app.core.pagination import PageRequest
from app.core.permissions import Actor, Role
from app.users import service as users_service
from app.users.exceptions import UserNotFound
from tests.helpers import Api


async def test_a_customer_lists_and_reads_only_its_own_account(api: Api):
    me, other = await api.customer(), await api.customer()
    actor = Actor.of(me.id, Role.CUSTOMER)

    users, next_cursor = await users_service.list_users(actor, None, None, None, PageRequest())

    assert [user.id for user in users] == [me.id] and next_cursor is None
    assert (await users_service.get_visible(actor, me.id)).id == me.id
    with pytest.raises(UserNotFound):
        await users_service.get_visible(actor, other.id)


async def test_an_admin_reads_any_account(api: Api):
    customer, admin = await api.customer(), await api.admin("finance")
    actor = Actor.of(admin.id, Role.ADMIN, ("finance",))

    users, _ = await users_service.list_users(actor, Role.CUSTOMER, None, None, PageRequest())

    assert customer.id in {user.id for user in users}
    assert (await users_service.get_visible(actor, customer.id)).id == customer.id
