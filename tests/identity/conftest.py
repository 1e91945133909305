"""An identity service on both databases, with a clock the tests move by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.clock import FakeClock
from callrouter.identity.codes import CodeHasher
from callrouter.identity.service import IdentityService


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))


@pytest.fixture
def service(
    database_sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> IdentityService:
    # Cheap web-code hashing keeps the suite fast; test_codes checks the real defaults.
    cheap_web = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return IdentityService(database_sessions, clock, hasher=CodeHasher(web_hasher=cheap_web))
