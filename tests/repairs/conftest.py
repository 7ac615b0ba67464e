"""The repair tests run the timers themselves (`tasks.run_timers()` after moving the clock),
and the app runs them only hourly here: the app's own background run, landing between a
clock move and the test's next step, would act first (expire an offer the test is about to
accept late, re-match to nobody)."""

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/repairs/" in item.nodeid and item.get_closest_marker("settings") is None:
            item.add_marker(pytest.mark.settings(repairs={"job_interval_seconds": 3600}))
