"""What an operator reads in the log: callrouter's own lines, not its libraries' chatter."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog

from callrouter.logging import configure_logging


@pytest.fixture
def restored() -> Iterator[None]:
    before = structlog.get_config()
    levels = {name: logging.getLogger(name).level for name in ("", "alembic", "apscheduler")}
    # As when `callrouter` runs: the root logger lets info through.
    logging.getLogger().setLevel(logging.INFO)
    yield
    structlog.configure(**before)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.usefixtures("restored")
def test_the_scheduler_s_every_run_is_not_logged_at_info() -> None:
    # The callbacks' sweep runs every second: at info, APScheduler wrote two lines a second.
    configure_logging(level="info")
    assert logging.getLogger("callrouter").isEnabledFor(logging.INFO)
    assert not logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.INFO)
    assert logging.getLogger("apscheduler.scheduler").isEnabledFor(logging.WARNING)
    configure_logging(level="debug")
    assert not logging.getLogger("apscheduler").isEnabledFor(logging.INFO)
