"""The on-call routes over HTTP on a real database: admins manage the roster, staff read who
is on call now and next, a technician's feed opens with its token alone and stops when
revoked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from icalendar import Calendar

from callrouter.accounts.api import setup_account_api
from callrouter.accounts.operators import OperatorService
from callrouter.calendar import PARIS, HotlineCalendar
from callrouter.clock import FakeClock
from callrouter.db.engine import create_engine, session_factory
from callrouter.http.access import Role
from callrouter.http.api import setup_http_api
from callrouter.ledger.config import LedgerConfig
from callrouter.oncall.context import OnCallApi
from callrouter.oncall.routes import setup_oncall_routes
from callrouter.oncall.service import RosterService

Client = TestClient[web.Request, web.Application]


@dataclass
class Desk:
    client: Client
    clock: FakeClock
    admin: dict[str, str]
    supervisor: dict[str, str]

    async def call(
        self, method: str, path: str, headers: dict[str, str], body: Any = None
    ) -> tuple[int, Any]:
        response = await self.client.request(method, path, headers=headers, json=body)
        return response.status, await response.json()


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    # Tuesday 4 March 2025, 20:00 in Paris: the on-call window is open.
    clock = FakeClock(datetime(2025, 3, 4, 19, 0, tzinfo=UTC))
    engine = create_engine(database_url)
    sessions = session_factory(engine)
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
        ),
    )
    operators = OperatorService(sessions, clock)
    keys = {
        role: (await operators.create(role.value, role)).api_key
        for role in Role
        if role != Role.HOLDER
    }
    try:
        async with TestClient(TestServer(app)) as client:
            yield Desk(
                client,
                clock,
                {"Authorization": f"Bearer {keys[Role.ADMIN]}"},
                {"Authorization": f"Bearer {keys[Role.SUPERVISOR]}"},
            )
    finally:
        await engine.dispose()


async def _staffed(desk: Desk) -> dict[str, int]:
    ids = {}
    for name, contact in (("Alice", "PJSIP/alice"), ("Bruno", "0611223344"), ("Manon", "PJSIP/m")):
        status, body = await desk.call(
            "POST", "/api/oncall/people", desk.admin, {"name": name, "contact": contact}
        )
        assert status == 201, body
        ids[name] = body["id"]
    status, body = await desk.call(
        "PUT",
        "/api/oncall/rotations/primary",
        desk.admin,
        {
            "people": ["Alice", "Bruno"],
            "shift_days": 1,
            "handoff_at": "18:00",
            "first_handoff": "2025-03-03",
        },
    )
    assert status == 200, body
    status, body = await desk.call(
        "PUT",
        "/api/oncall/rotations/manager",
        desk.admin,
        {
            "people": ["Manon"],
            "shift_days": 7,
            "handoff_at": "08:00",
            "first_handoff": "2025-03-03",
        },
    )
    assert status == 200, body
    return ids


async def test_no_roster_configured(desk: Desk) -> None:
    status, body = await desk.call("GET", "/api/oncall", desk.supervisor)
    assert status == 200
    assert body["window_open"] is True and body["roster_set"] is False
    assert body["now"] == {"primary": None, "secondary": None, "manager": None}
    assert body["next"] is None and body["until"] is None


async def test_now_and_next_with_numbers_masked_for_supervisors(desk: Desk) -> None:
    await _staffed(desk)
    status, body = await desk.call("GET", "/api/oncall", desk.supervisor)
    assert status == 200
    assert body["at"] == "2025-03-04T20:00:00+01:00"
    # Tuesday night: day 1 of the daily rotation started Monday 18:00 -> Bruno.
    assert body["now"]["primary"] == {"name": "Bruno", "contact": "06 •• •• •3 44"}
    assert body["now"]["manager"]["name"] == "Manon"
    assert body["until"] == "2025-03-05T08:00:00+01:00"
    assert body["next"]["at"] == "2025-03-05T18:00:00+01:00"
    assert body["next"]["team"]["primary"]["name"] == "Alice"
    _, admin_view = await desk.call("GET", "/api/oncall", desk.admin)
    assert admin_view["now"]["primary"]["contact"] == "0611223344"


async def test_override_and_schedule(desk: Desk) -> None:
    await _staffed(desk)
    status, body = await desk.call(
        "POST",
        "/api/oncall/overrides",
        desk.admin,
        {
            "replaces": "Bruno",
            "by": "Alice",
            "starts_at": "2025-03-04T22:00:00+01:00",
            "ends_at": "2025-03-05T02:00:00+01:00",
        },
    )
    assert status == 201, body
    _, schedule = await desk.call("GET", "/api/oncall/schedule?days=1", desk.supervisor)
    assert [(s["start"], s["team"]["primary"]["name"]) for s in schedule["shifts"]] == [
        ("2025-03-04T20:00:00+01:00", "Bruno"),
        ("2025-03-04T22:00:00+01:00", "Alice"),
        ("2025-03-05T02:00:00+01:00", "Bruno"),
        ("2025-03-05T18:00:00+01:00", "Alice"),
    ]
    _, roster = await desk.call("GET", "/api/oncall/roster", desk.supervisor)
    assert [o["by"] for o in roster["overrides"]] == ["Alice"]
    status, _ = await desk.call("DELETE", f"/api/oncall/overrides/{body['id']}", desk.admin)
    assert status == 200
    status, _ = await desk.call("DELETE", f"/api/oncall/overrides/{body['id']}", desk.admin)
    assert status == 404


async def test_refusals(desk: Desk) -> None:
    ids = await _staffed(desk)
    status, body = await desk.call(
        "POST", "/api/oncall/people", desk.supervisor, {"name": "Zoé", "contact": "PJSIP/z"}
    )
    assert status == 403
    status, body = await desk.call(
        "POST", "/api/oncall/people", desk.admin, {"name": "Alice", "contact": "PJSIP/a"}
    )
    assert status == 409
    status, body = await desk.call("DELETE", f"/api/oncall/people/{ids['Alice']}", desk.admin)
    assert status == 409 and "primary rotation" in body["error"]["message"]
    status, body = await desk.call(
        "PUT",
        "/api/oncall/rotations/secondary",
        desk.admin,
        {"people": ["Zoé"], "shift_days": 7, "handoff_at": "08:00", "first_handoff": "2025-03-03"},
    )
    assert status == 404 and "Zoé" in body["error"]["message"]
    status, body = await desk.call(
        "POST",
        "/api/oncall/overrides",
        desk.admin,
        {
            "replaces": "Bruno",
            "by": "Alice",
            "starts_at": "2025-03-05T02:00:00+01:00",
            "ends_at": "2025-03-04T22:00:00+01:00",
        },
    )
    assert status == 400 and body["error"]["field"] == "ends_at"


async def test_feed_opens_with_its_token_and_stops_when_revoked(desk: Desk) -> None:
    ids = await _staffed(desk)
    status, issued = await desk.call("POST", f"/api/oncall/people/{ids['Bruno']}/feed", desk.admin)
    assert status == 201
    url: str = issued["url"]
    assert url.startswith("https://hotline.example/api/oncall/feeds/") and url.endswith(".ics")
    path = url.removeprefix("https://hotline.example")
    response = await desk.client.get(path)
    assert response.status == 200
    assert response.content_type == "text/calendar"
    text = await response.text()
    # Personal data minimal: not their name, not their number.
    assert "Bruno" not in text and "0611223344" not in text
    feed = Calendar.from_ical(text)
    events = feed.walk("VEVENT")
    starts = [event.decoded("dtstart") for event in events]
    # Every other night, from a week back (the cycle runs before its first hand-off) to two
    # weeks ahead.
    assert starts[0] == datetime(2025, 2, 26, 18, 0, tzinfo=PARIS)
    assert datetime(2025, 3, 4, 18, 0, tzinfo=PARIS) in starts
    assert datetime(2025, 3, 5, 18, 0, tzinfo=PARIS) not in starts
    assert max(starts) == datetime(2025, 3, 18, 18, 0, tzinfo=PARIS)
    assert all(event["summary"] == "Astreinte (1er appel)" for event in events)
    assert feed.walk("VTIMEZONE")
    # A new URL replaces the old one; a revoked feed answers 404.
    _, again = await desk.call("POST", f"/api/oncall/people/{ids['Bruno']}/feed", desk.admin)
    assert (await desk.client.get(path)).status == 404
    new_path = again["url"].removeprefix("https://hotline.example")
    assert (await desk.client.get(new_path)).status == 200
    status, _ = await desk.call("DELETE", f"/api/oncall/people/{ids['Bruno']}/feed", desk.admin)
    assert status == 200
    assert (await desk.client.get(new_path)).status == 404


async def test_the_document_describes_the_feed_as_icalendar(desk: Desk) -> None:
    status, document = await desk.call("GET", "/api/openapi.json", {})
    assert status == 200
    feed = document["paths"]["/api/oncall/feeds/{token}.ics"]["get"]
    assert feed["security"] == []
    assert feed["responses"]["200"]["content"] == {"text/calendar": {"schema": {"type": "string"}}}
    assert set(feed["responses"]) == {"200", "404", "500"}
    assert document["paths"]["/api/oncall"]["get"]["description"] == (
        "Roles: coordinator, supervisor, admin."
    )
