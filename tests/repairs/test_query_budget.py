"""The query budget of booking a hardware repair with candidates nearby: the nearby search
reads a few search cells, eligibility is two queries over all candidates (busy, live offers),
the acceptance rates one bounded read per eligible candidate, and the offer one transaction."""

import pytest

from app.core.config import Settings
from tests.commands import CommandCounter
from tests.repairs.factories import HOME, book, data_of, hardware_body, technician_near

AUTH = ["find users"]


@pytest.fixture
def config(config: Settings) -> Settings:
    """Budgets count a request's own commands: no background job runs beside it."""
    return config.model_copy(update={"background_tasks_enabled": False})


async def test_booking_a_hardware_repair_stays_within_its_budget(commands: CommandCounter, api):
    ops = await api.admin("ops")
    for km in (1, 2, 3):
        await technician_near(api, HOME, km=km, admin=ops)
    customer = await api.customer()

    response = await book(api, customer, hardware_body(*HOME))

    assert data_of(response, 201)["status"] == "offered"
    taken = [str(c) for c in commands.of(response)]
    # No query reads the technicians or repairs collections whole: only indexed, bounded ones.
    assert taken.count("find users") == 1
    assert taken.count("find repair_offers") == 1 + 3  # live offers, and 3 acceptance rates
    assert taken.count("find repairs") == 1  # busy candidates
    assert taken.count("find technicians") == 1  # the chosen one's account
    # The booking and its offer: one transaction (job, offer and the technician's offer
    # tally, notification, two audit entries), then the notification's push is claimed and
    # marked done.
    writes = ["insert repairs", "insert audit_entries", "findAndModify repairs",
              "insert audit_entries", "insert repair_offers", "update repair_offer_tallies",
              "find notifications", "insert notifications", "commitTransaction",
              *["update notifications"] * 2]
    cells = taken.count("find technician_search_cells")
    assert cells <= 12  # the nearby search's rings of a 10 km radius
    commands.assert_commands(response, exactly=[
        # The platform-wide mean of the Bayesian ratings (one stats document), then the rings.
        *AUTH, "find technician_rating_stats", *["find technician_search_cells"] * cells,
        "find repairs",
        *["find repair_offers"] * 4, "find technicians", *writes])
