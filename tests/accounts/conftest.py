"""The account API on a real database, behind aiohttp's test server, with a hand-moved clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher

from callrouter.accounts.api import setup_account_api
from callrouter.accounts.operators import OperatorService
from callrouter.appointments.api import build_services, setup_appointment_api
from callrouter.appointments.config import AppointmentsConfig
from callrouter.calendar import default_windows
from callrouter.calendar.hotline import HotlineCalendar
from callrouter.calendar.windows import PARIS
from callrouter.callbacks.config import CallbacksConfig
from callrouter.callbacks.opening import CallbackOpenings
from callrouter.callbacks.queries import CallbackQueries
from callrouter.callbacks.routes import CallbacksApi, setup_callback_api
from callrouter.clock import FakeClock
from callrouter.db.engine import create_engine, session_factory
from callrouter.experts.config import ExpertsConfig
from callrouter.http.access import Role
from callrouter.http.api import setup_http_api
from callrouter.http.ops import OpsContext, setup_ops_routes
from callrouter.identity.codes import CodeHasher
from callrouter.identity.service import IdentityService
from callrouter.ledger.config import LedgerConfig
from callrouter.ledger.service import LedgerService
from callrouter.live.state import LiveState
from callrouter.oncall.context import OnCallApi
from callrouter.oncall.routes import setup_oncall_routes
from callrouter.oncall.service import RosterService

SECRET = b"account-api-test-secret-32-bytes!"
#: What a Pass 4H incident needs besides the ledger's fields: its callback (issue 8).
CALLBACK = {"domain": "knx", "callback_number": "0611223344"}
Client = TestClient[web.Request, web.Application]


@dataclass
class World:
    """The API's client plus the back-office services a distributor or admin would use."""

    client: Client
    clock: FakeClock
    identity: IdentityService
    ledger: LedgerService
    operators: OperatorService
    #: What the supervision routes show: the live view, and the latest routing decisions.
    live: LiveState
    decisions: list[dict[str, Any]]

    async def new_holder(self, name: str = "Durand SA") -> tuple[str, str]:
        """An account as `callrouter account create` opens it: (number, web code)."""
        new = await self.identity.create_account(name)
        return new.number, new.web_code

    async def sign_in(self, number: str, web_code: str) -> dict[str, str]:
        response = await self.client.post(
            "/api/account/sign-in", json={"account_number": number, "web_code": web_code}
        )
        assert response.status == 200, await response.text()
        return {"Authorization": f"Bearer {(await response.json())['token']}"}

    async def holder(self, name: str = "Durand SA") -> tuple[str, dict[str, str]]:
        number, code = await self.new_holder(name)
        return number, await self.sign_in(number, code)

    async def coordinator(self, name: str = "Claire Coordinatrice") -> dict[str, str]:
        return await self.staff(Role.COORDINATOR, name)

    async def staff(self, role: Role, name: str | None = None) -> dict[str, str]:
        new = await self.operators.create(name or f"{role.value} {id(self)}", role)
        return {"Authorization": f"Bearer {new.api_key}"}

    async def card(self, pack: str = "FSACSP100C") -> str:
        """A recharge code as printed on a pack card (`callrouter codes issue`)."""
        return (await self.ledger.issue_codes(pack, 1))[0].code

    async def json(
        self, method: str, path: str, headers: dict[str, str], body: Any = None
    ) -> tuple[int, Any]:
        response = await self.client.request(method, path, headers=headers, json=body)
        return response.status, await response.json()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))


@asynccontextmanager
async def world_on(url: str, clock: FakeClock) -> AsyncIterator[World]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    app = web.Application()
    config = LedgerConfig()
    setup_account_api(app, sessions=sessions, clock=clock, secret=SECRET, ledger_config=config)
    callbacks = CallbacksConfig()
    setup_callback_api(
        app,
        CallbacksApi(
            openings=CallbackOpenings(
                LedgerService(sessions, clock, config), callbacks, default_windows()
            ),
            queries=CallbackQueries(engine, clock, callbacks.policy),
            clock=clock,
        ),
    )
    # The whole HTTP API, as `callrouter serve` mounts it: the document describes it all.
    setup_http_api(app, timezone=PARIS)
    live = LiveState(clock)
    decisions: list[dict[str, Any]] = []

    async def recent_decisions(limit: int) -> list[dict[str, Any]]:
        return decisions[:limit]

    setup_ops_routes(
        app,
        OpsContext(
            live=live,
            clock=clock,
            ami_connected=lambda: True,
            recent_decisions=recent_decisions,
        ),
    )
    directory, appointments = build_services(
        sessions, clock, HotlineCalendar.default(), ExpertsConfig(), AppointmentsConfig(), config
    )
    setup_appointment_api(app, directory=directory, service=appointments, live=live, clock=clock)
    setup_oncall_routes(
        app,
        OnCallApi(
            roster=RosterService(sessions, clock, HotlineCalendar.default().on_call),
            clock=clock,
            feed_base_url="http://callrouter.test",
            feed_days_back=7,
            feed_days_ahead=56,
        ),
    )
    # Cheap argon2 for the codes the tests create; verification reads the cost from the hash.
    cheap = CodeHasher(web_hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    try:
        async with TestClient(TestServer(app)) as client:
            yield World(
                client=client,
                clock=clock,
                identity=IdentityService(sessions, clock, hasher=cheap),
                ledger=LedgerService(sessions, clock, config),
                operators=OperatorService(sessions, clock),
                live=live,
                decisions=decisions,
            )
    finally:
        await engine.dispose()


@pytest.fixture
async def world(sqlite_url: str, clock: FakeClock) -> AsyncIterator[World]:
    """On SQLite: most API tests are about HTTP behaviour, the same on both databases."""
    async with world_on(sqlite_url, clock) as built:
        yield built


@pytest.fixture
async def any_db_world(database_url: str, clock: FakeClock) -> AsyncIterator[World]:
    """On SQLite, then on PostgreSQL."""
    async with world_on(database_url, clock) as built:
        yield built
