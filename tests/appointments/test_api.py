"""The experts' and appointments' routes over HTTP: roles, answers, clear refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from callrouter.accounts.api import setup_account_api
from callrouter.accounts.operators import OperatorService
from callrouter.appointments.api import setup_appointment_api
from callrouter.calendar import PARIS
from callrouter.clock import FakeClock
from callrouter.db.engine import create_engine
from callrouter.http.access import Role
from callrouter.http.api import setup_http_api
from callrouter.ledger.config import LedgerConfig
from callrouter.live.state import LiveState

from .conftest import Desk, build_desk

Client = TestClient[web.Request, web.Application]
SLOT = "2025-03-10T10:00:00+01:00"


class Api:
    def __init__(self, client: Client, desk: Desk, operators: OperatorService) -> None:
        self.client, self.desk, self.operators = client, desk, operators

    async def staff(self, role: Role) -> dict[str, str]:
        new = await self.operators.create(f"{role.value} one", role)
        return {"Authorization": f"Bearer {new.api_key}"}

    async def call(
        self, method: str, path: str, headers: dict[str, str], body: Any = None
    ) -> tuple[int, Any]:
        response = await self.client.request(method, path, headers=headers, json=body)
        return response.status, await response.json()


@pytest.fixture
async def api(sqlite_url: str, clock: FakeClock) -> AsyncIterator[Api]:
    engine = create_engine(sqlite_url)
    desk = build_desk(engine, clock)
    app = web.Application()
    sessions = desk.experts._sessions
    setup_account_api(
        app, sessions=sessions, clock=clock, secret=b"x" * 32, ledger_config=LedgerConfig()
    )
    setup_http_api(app, timezone=PARIS)
    setup_appointment_api(
        app,
        directory=desk.experts,
        service=desk.appointments,
        live=LiveState(clock),
        clock=clock,
    )
    try:
        async with TestClient(TestServer(app)) as client:
            yield Api(client, desk, OperatorService(sessions, clock))
    finally:
        await engine.dispose()


def _booking(account: str, key: str = "t-1", **changes: Any) -> dict[str, Any]:
    return {
        "account_number": account,
        "domain": "knx",
        "level": "standard",
        "start": SLOT,
        "number_to_call": "06 12 34 56 78",
        "summary": "Paramétrage d'une passerelle",
        "idempotency_key": key,
        **changes,
    }


async def test_admin_manages_experts_staff_reads_them(api: Api) -> None:
    admin, coordinator = await api.staff(Role.ADMIN), await api.staff(Role.COORDINATOR)
    new = {"name": "Léa Expert", "interface": "PJSIP/expert7", "domains": ["knx", "hvac"]}
    status, _ = await api.call("POST", "/api/experts", coordinator, new)
    assert status == 403
    status, body = await api.call("POST", "/api/experts", admin, new)
    assert status == 201 and body["presence"] == "unknown" and body["domains"] == ["hvac", "knx"]
    status, _ = await api.call("POST", "/api/experts", admin, new)
    assert status == 409
    status, wrong = await api.call(
        "POST",
        "/api/experts",
        admin,
        {**new, "name": "X", "domains": ["plumbing"], "interface": "PJSIP/x"},
    )
    assert (status, wrong["error"]["code"], wrong["error"]["field"]) == (
        422,
        "unknown-domain",
        "domain",
    )
    absence = {"start": "2025-03-10T08:00:00+01:00", "end": "2025-03-11T08:00:00+01:00"}
    status, body = await api.call("POST", f"/api/experts/{body['id']}/absences", admin, absence)
    assert status == 201 and body["absences"][0]["start"] == "2025-03-10T08:00:00+01:00"
    status, listing = await api.call("GET", "/api/experts", await api.staff(Role.SUPERVISOR))
    assert status == 200 and [e["name"] for e in listing["items"]] == ["Léa Expert"]
    assert {d["key"] for d in listing["domains"]} == {"lighting", "hvac", "knx", "access-control"}
    status, _ = await api.call("DELETE", f"/api/experts/{body['id']}", admin)
    assert status == 200
    status, listing = await api.call("GET", "/api/experts", coordinator)
    assert listing["items"] == []


async def test_book_list_cancel_and_the_holder_sees_it(api: Api) -> None:
    for index in (1, 2):
        await api.desk.experts.add(f"Expert {index}", f"PJSIP/expert{index}", ["knx"])
    coordinator = await api.staff(Role.COORDINATOR)
    number, code = (lambda new: (new.number, new.web_code))(
        await api.desk.identity.create_account("Durand SA")
    )
    await api.desk.ledger.credit(number, 80, reason="order", idempotency_key="o")
    query = "/api/appointments/availability?domain=knx&from=2025-03-10T10:00:00%2B01:00&to=2025-03-10T10:30:00%2B01:00"  # noqa: E501
    status, slots = await api.call("GET", query, coordinator)
    assert status == 200 and [s["capacity"] for s in slots["items"]] == [2, 2]
    assert (slots["domain"], slots["slot_minutes"], slots["items"][0]) == (
        "knx",
        30,
        {
            "start": "2025-03-10T10:00:00+01:00",
            "end": "2025-03-10T10:30:00+01:00",
            "capacity": 2,
            "experts": ["Expert 1", "Expert 2"],
        },
    )
    status, booked = await api.call("POST", "/api/appointments", coordinator, _booking(number))
    assert status == 201 and booked["debit"] == {"points": 50, "balance": 30}
    assert booked["appointment"]["start"] == SLOT and booked["appointment"]["state"] == "booked"
    # Nobody took the call yet: the reserved expert is named in both.
    assert booked["appointment"]["expert"] == booked["appointment"]["reserved_expert"]
    assert booked["appointment"]["expert"]["name"] == "Expert 1"
    status, replay = await api.call("POST", "/api/appointments", coordinator, _booking(number))
    assert status == 200 and replay["replayed"]
    refusals = {
        "2025-03-10T16:45:00+01:00": (422, "slot-outside-window"),
        "2025-03-07T10:00:00+01:00": (422, "slot-too-soon"),
    }
    for start, expected in refusals.items():
        status, body = await api.call(
            "POST", "/api/appointments", coordinator, _booking(number, key=start, start=start)
        )
        assert (status, body["error"]["code"]) == expected
        assert body["error"]["field"] == "start"
    status, poor = await api.call(
        "POST", "/api/appointments", coordinator, _booking(number, key="t-2")
    )
    assert (status, poor["error"]["code"]) == (402, "insufficient-balance")
    status, listing = await api.call("GET", "/api/appointments?day=2025-03-10", coordinator)
    assert [a["expert"]["name"] for a in listing["items"]] == ["Expert 1"]
    status, listing = await api.call("GET", "/api/appointments?day=2025-03-11", coordinator)
    assert listing["items"] == []
    supervisor = await api.staff(Role.SUPERVISOR)
    status, watched = await api.call("GET", "/api/appointments", supervisor)
    (seen,) = watched["items"]
    assert (seen["account_number"], seen["number_to_call"]) == ("••••••••", "06 •• •• •6 78")
    holder = await api.client.post(
        "/api/account/sign-in", json={"account_number": number, "web_code": code}
    )
    token = {"Authorization": f"Bearer {(await holder.json())['token']}"}
    status, mine = await api.call("GET", "/api/account/appointments", token)
    assert status == 200 and [a["start"] for a in mine["items"]] == [SLOT]
    appointment_id = booked["appointment"]["id"]
    status, cancelled = await api.call(
        "POST", f"/api/appointments/{appointment_id}/cancel", coordinator, {"reason": "absent"}
    )
    assert status == 200 and cancelled["refunded_points"] == 50
    status, again = await api.call(
        "POST", f"/api/appointments/{appointment_id}/reschedule", coordinator, {"start": SLOT}
    )
    assert (status, again["error"]["code"]) == (409, "not-changeable")
