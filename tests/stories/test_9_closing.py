"""After every story: the shared server is still ready, the books of everything the stories
left behind verify, and the server logged no error along the way."""

import re

from tests.processes import ApiProcess
from tests.stories.people import World

ERROR_LINE = re.compile(r'"level":\s*"(ERROR|CRITICAL)"|Traceback \(most recent call last\)')


async def test_the_shared_server_closes_its_books_clean(world: World, server: ApiProcess):
    assert (await world.http.get("/ready")).status_code == 200
    finance, compliance = await world.admin("finance"), await world.admin("compliance")
    ledger = await world.ledger_is_valid(finance)
    assert ledger["valid"] is True
    audit = await world.audit_is_valid(compliance)
    assert audit["headSeq"] is not None and audit["checkedEntries"] >= audit["headSeq"]
    errors = [line for line in server.log().splitlines() if ERROR_LINE.search(line)]
    assert errors == [], "\n".join(errors[:20])
