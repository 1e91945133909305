"""Every escalation step is stored, and GET /api/oncall shows each live emergency with its
step and waiting time, and the unanswered ones owed a callback (issue 10, item 4)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.accounts.api import setup_account_api
from callrouter.accounts.operators import OperatorService
from callrouter.ami.message import Message
from callrouter.calendar import PARIS, HotlineCalendar
from callrouter.clock import FakeClock
from callrouter.db.engine import create_engine, session_factory
from callrouter.http.access import Role
from callrouter.http.api import setup_http_api
from callrouter.ledger.config import LedgerConfig
from callrouter.oncall.context import OnCallApi
from callrouter.oncall.escalation import EscalationPolicy
from callrouter.oncall.escalation_store import EscalationStore
from callrouter.oncall.routes import setup_oncall_routes
from callrouter.oncall.service import RosterService
from callrouter.oncall.tracking import EscalationTracker

T0 = datetime(2025, 3, 4, 20, 0, tzinfo=UTC)
SECONDARY = "Local/pjsip-bruno@oncall-technician"


def event(name: str, **headers: str) -> Message:
    return Message([f"Event: {name}", *(f"{key}: {value}" for key, value in headers.items())])


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def feed(
    store: EscalationStore, tracker: EscalationTracker, *timed: tuple[float, Message]
) -> None:
    for seconds, message in timed:
        store.add(tracker.on_event(message, T0 + timedelta(seconds=seconds)))
    await store.flush()


def emergency(uniqueid: str, caller: str) -> list[tuple[float, Message]]:
    return [
        (0, event("QueueMemberAdded", Queue="oncall", Interface=SECONDARY, Penalty="1")),
        (
            0,
            event(
                "QueueCallerJoin",
                Queue="oncall",
                Uniqueid=uniqueid,
                CallerIDNum=caller,
                Channel="Local/c;2",
            ),
        ),
        (
            34,
            event(
                "AgentCalled",
                Queue="oncall",
                Uniqueid=uniqueid,
                Interface=SECONDARY,
                MemberName="Bruno",
            ),
        ),
    ]


async def test_every_step_is_stored_and_the_unanswered_are_listed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tracker, store = EscalationTracker("oncall", EscalationPolicy()), EscalationStore(sessions)
    store.start()
    try:
        await feed(
            store,
            tracker,
            *emergency("1.1", "0612345678"),
            (
                40,
                event(
                    "UserEvent",
                    UserEvent="OnCallDeclined",
                    CallerUniqueid="1.1",
                    Technician=SECONDARY,
                ),
            ),
            (
                180,
                event(
                    "UserEvent",
                    UserEvent="OnCallUnanswered",
                    CallerUniqueid="1.1",
                    Caller="0612345678",
                ),
            ),
            (240, event("Hangup", Uniqueid="1.1")),
        )
        steps = await store.steps_of("1.1")
        unanswered = await store.unanswered(T0, 10)
    finally:
        await store.close()

    assert steps == [
        ("joined", "primary", None),
        ("ringing", "primary", "Bruno"),
        ("escalated", "secondary", "Bruno"),
        ("declined", "secondary", SECONDARY),
        ("unanswered", "secondary", None),
        ("ended", "secondary", None),
    ]
    assert [(u.caller_id, u.state, u.started_at) for u in unanswered] == [
        ("0612345678", "unanswered", T0)
    ]
    assert await EscalationStore(sessions).unanswered(T0 + timedelta(seconds=241), 10) == []


async def test_the_live_view_shows_each_emergency_step_and_wait(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock(T0)
    tracker, store = EscalationTracker("oncall", EscalationPolicy()), EscalationStore(sessions)
    app = web.Application()
    setup_account_api(
        app, sessions=sessions, clock=clock, secret=b"x" * 32, ledger_config=LedgerConfig()
    )
    setup_http_api(app, timezone=PARIS)
    setup_oncall_routes(
        app,
        OnCallApi(
            roster=RosterService(sessions, clock, HotlineCalendar.default().on_call),
            clock=clock,
            feed_base_url="https://hotline.example/",
            feed_days_back=7,
            feed_days_ahead=14,
            escalations=tracker.live,
            unanswered=lambda since: store.unanswered(since, 10),
        ),
    )
    operators = OperatorService(sessions, clock)
    keys = {
        role: (await operators.create(role.value, role)).api_key
        for role in (Role.ADMIN, Role.COORDINATOR)
    }
    store.start()
    try:
        await feed(store, tracker, *emergency("1.1", "0612345678"))
        await feed(
            store,
            tracker,
            (
                0,
                event(
                    "UserEvent",
                    UserEvent="OnCallUnanswered",
                    CallerUniqueid="2.2",
                    Caller="0698765432",
                ),
            ),
        )
        clock.set(T0 + timedelta(seconds=50))
        async with TestClient(TestServer(app)) as client:
            bodies: dict[Role, Any] = {}
            for role, key in keys.items():
                response = await client.get(
                    "/api/oncall", headers={"Authorization": f"Bearer {key}"}
                )
                assert response.status == 200
                bodies[role] = await response.json()
    finally:
        await store.close()

    admin = bodies[Role.ADMIN]
    # the unanswered caller is still on the line, leaving a message
    assert [e["state"] for e in admin["escalations"]] == ["waiting", "unanswered"]
    assert admin["escalations"][:1] == [
        {
            "caller_id": "0612345678",
            "started_at": "2025-03-04T21:00:00+01:00",
            "state": "waiting",
            "layer": "secondary",
            "pass_number": 1,
            "waited_seconds": 50.0,
            "pass_waited_seconds": 50.0,
            "technician": None,
        }
    ]
    assert [u["caller_id"] for u in admin["unanswered"]] == ["0698765432"]
    coordinator = bodies[Role.COORDINATOR]
    assert coordinator["escalations"][0]["caller_id"] == "06 •• •• •6 78"
    assert "0698765432" not in str(coordinator["unanswered"])
