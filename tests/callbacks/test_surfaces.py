"""The callbacks as staff reach them: `callrouter incident open` and `callback
list|show|cancel` on a SQLite file, and POST /api/incidents, GET /api/callbacks[/{id}]
behind staff keys, with numbers masked for the roles that do not need them."""

from __future__ import annotations

import argparse
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from callrouter.accounts.api import setup_account_api
from callrouter.accounts.operators import OperatorService
from callrouter.calendar import PARIS, default_windows
from callrouter.callbacks.cli import register as register_callbacks
from callrouter.callbacks.config import CallbacksConfig
from callrouter.callbacks.opening import CallbackOpenings
from callrouter.callbacks.queries import CallbackQueries
from callrouter.callbacks.routes import CallbacksApi, setup_callback_api
from callrouter.calls.records import CallRecordData, add_call_records
from callrouter.clock import FakeClock
from callrouter.db.engine import create_engine, session_factory
from callrouter.http.access import Role
from callrouter.http.api import setup_http_api
from callrouter.identity.service import IdentityService
from callrouter.ledger.cli import register as register_ledger
from callrouter.ledger.config import LedgerConfig
from callrouter.ledger.service import LedgerService

# The CLI


def _run(url: str, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="callrouter")
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--database-url", default=None)
    commands = parser.add_subparsers(dest="command")
    register_ledger(commands)
    register_callbacks(commands)
    args = parser.parse_args(["--database-url", url, *argv])
    code: int = args.handler(args)
    return code


def test_a_4h_incident_opened_from_the_shell_has_its_callback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'callbacks.db'}"
    assert _run(url, "codes", "issue", "--pack", "FSACSP100C") == 0
    code = re.findall(r"^[0-9A-Z]{4}(?:-[0-9A-Z]{4}){6}$", capsys.readouterr().out, re.M)[0]
    assert _run(url, "ledger", "redeem", "new", code, "--holder", "Durand SA") == 0
    number = re.findall(r"account (\d{8}) opened", capsys.readouterr().out)[0]
    opening = ("incident", "open", number, "--level", "standard", "--pass", "4h")

    assert _run(url, *opening, "--domain", "knx", "--callback-number", "06 12 34 56 78") == 0
    assert re.search(r"callback 1 due \S+ \S+\+01:00 \(knx\)", capsys.readouterr().out)

    assert _run(url, "callback", "list") == 0
    listed = capsys.readouterr().out
    assert "knx" in listed and "0612345678" in listed and "incident 1, 0 attempt(s)" in listed

    assert _run(url, "callback", "cancel", "1", "--reason", "called by hand") == 0
    assert "cancelled" in capsys.readouterr().out
    assert _run(url, "callback", "show", "1") == 0
    shown = capsys.readouterr().out
    assert "cancelled" in shown and "(cancelled)" in shown
    assert _run(url, "callback", "cancel", "1", "--reason", "again") == 1
    assert "already closed" in capsys.readouterr().err


def test_a_4h_incident_without_its_domain_is_refused_and_nothing_is_debited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'callbacks.db'}"
    assert _run(url, "codes", "issue", "--pack", "FSACSP100C") == 0
    code = re.findall(r"^[0-9A-Z]{4}(?:-[0-9A-Z]{4}){6}$", capsys.readouterr().out, re.M)[0]
    assert _run(url, "ledger", "redeem", "new", code, "--holder", "Durand SA") == 0
    number = re.findall(r"account (\d{8}) opened", capsys.readouterr().out)[0]
    assert _run(url, "incident", "open", number, "--level", "standard", "--pass", "4h") == 1
    assert "needs the domain" in capsys.readouterr().err
    assert _run(url, "ledger", "statement", number) == 0
    assert "balance 100 points" in capsys.readouterr().out


# The HTTP API

Client = TestClient[web.Request, web.Application]
START = datetime(2026, 12, 1, 17, 0, tzinfo=PARIS)


class Staff:
    def __init__(
        self,
        client: Client,
        operators: OperatorService,
        ledger: LedgerService,
        identity: IdentityService,
        sessions: Any,
        clock: FakeClock,
    ) -> None:
        self.client, self.operators, self.ledger = client, operators, ledger
        self.identity, self.sessions, self.clock = identity, sessions, clock

    async def key(self, role: Role) -> dict[str, str]:
        new = await self.operators.create(f"{role.value} {id(self)}", role)
        return {"Authorization": f"Bearer {new.api_key}"}

    async def call(
        self, method: str, path: str, headers: dict[str, str], body: Any = None
    ) -> tuple[int, Any]:
        response = await self.client.request(method, path, headers=headers, json=body)
        return response.status, await response.json()


@pytest.fixture
async def staff(database_url: str) -> AsyncIterator[Staff]:
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    clock = FakeClock(START)
    ledger = LedgerService(sessions, clock, LedgerConfig())
    app = web.Application()
    setup_account_api(
        app, sessions=sessions, clock=clock, secret=b"x" * 32, ledger_config=LedgerConfig()
    )
    setup_http_api(app, timezone=PARIS)
    config = CallbacksConfig()
    setup_callback_api(
        app,
        CallbacksApi(
            openings=CallbackOpenings(ledger, config, default_windows()),
            queries=CallbackQueries(engine, clock, config.policy),
            clock=clock,
        ),
    )
    try:
        async with TestClient(TestServer(app)) as client:
            yield Staff(
                client,
                OperatorService(sessions, clock),
                ledger,
                IdentityService(sessions, clock),
                sessions,
                clock,
            )
    finally:
        await engine.dispose()


async def _account(staff: Staff) -> str:
    number = (await staff.identity.create_account("Durand SA")).number
    await staff.ledger.credit(number, 100, reason="order", idempotency_key=f"order-{number}")
    return number


async def test_a_coordinator_opens_a_4h_incident_with_the_number_of_the_call(
    staff: Staff,
) -> None:
    number = await _account(staff)
    async with staff.sessions.begin() as session:
        await add_call_records(session, [_record("1764604800.7", "+33 6 12 34 56 78", number)])
    coordinator = await staff.key(Role.COORDINATOR)
    status, opened = await staff.call(
        "POST",
        "/api/incidents",
        coordinator,
        {
            "account_number": number,
            "level": "standard",
            "pass": "4h",
            "domain": "knx",
            "call": "1764604800.7",
            "idempotency_key": "c1",
        },
    )
    assert status == 201, opened
    assert opened["callback"]["due_at"] == "2026-12-02T11:00:00+01:00"
    callback_id = opened["callback"]["id"]

    admin = await staff.key(Role.ADMIN)
    status, shown = await staff.call("GET", f"/api/callbacks/{callback_id}", admin)
    assert status == 200
    assert (shown["number"], shown["standing"], shown["attempts"]) == ("0612345678", "pending", [])
    assert shown["seconds_left"] == 4 * 3600 + 14 * 3600  # 17:00 to 11:00, clock time

    supervisor = await staff.key(Role.SUPERVISOR)
    status, page = await staff.call("GET", "/api/callbacks?standing=pending", supervisor)
    assert status == 200
    [listed] = page["callbacks"]
    assert listed["number"] == "06 •• •• •6 78" and listed["attempts"] == 0
    staff.clock.advance(timedelta(hours=18))
    status, page = await staff.call("GET", "/api/callbacks?standing=breached", supervisor)
    assert [item["id"] for item in page["callbacks"]] == [callback_id]


async def test_a_4h_incident_without_a_number_to_call_back_opens_nothing(staff: Staff) -> None:
    number = await _account(staff)
    coordinator = await staff.key(Role.COORDINATOR)
    status, refused = await staff.call(
        "POST",
        "/api/incidents",
        coordinator,
        {
            "account_number": number,
            "level": "standard",
            "pass": "4h",
            "domain": "knx",
            "idempotency_key": "c1",
        },
    )
    assert (status, refused["error"]["field"]) == (400, "callback_number")
    assert await staff.ledger.balance(number) == 100


async def test_an_unknown_callback_is_a_404_and_holders_are_kept_out(staff: Staff) -> None:
    status, answer = await staff.call("GET", "/api/callbacks/99", await staff.key(Role.ADMIN))
    assert (status, answer["error"]["code"]) == (404, "not-found")
    status, _ = await staff.call("GET", "/api/callbacks", {})
    assert status == 401


def _record(uniqueid: str, caller_id: str, account: str) -> CallRecordData:
    return CallRecordData(
        channel="PJSIP/trunk-00000007",
        uniqueid=uniqueid,
        linkedid=uniqueid,
        caller_id=caller_id,
        account_number=account,
        caller_status="caller-id",
        chosen_pass="4h",
        window="coordinators",
        target="coordinators-queue",
        queue="coordinators",
        queue_priority=0,
        reason="daytime",
        arrived_at=START,
        decided_at=START,
        latency_ms=1.0,
        failsafe=False,
    )
