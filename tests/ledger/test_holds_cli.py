"""The ledger's commands and held points: `ledger check` proves each account's `held` is
the sum of its pending holds, within its balance; `ledger statement` says what is held."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callrouter.calendar import HotlineCalendar
from callrouter.clock import FakeClock
from callrouter.db.engine import create_engine, session_factory
from callrouter.ledger.config import LedgerConfig
from callrouter.ledger.hold_rules import AttachRule
from callrouter.ledger.service import LedgerService

from .test_cli import _issue_one, _run

NIGHT = datetime(2026, 11, 24, 22, 0, tzinfo=ZoneInfo("Europe/Paris"))
ATTACH = AttachRule(HotlineCalendar.default().on_call)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"


def test_ledger_check_reports_held_points_no_hold_accounts_for(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _issue_one(url, capsys)
    _run(url, "ledger", "redeem", "new", code, "--holder", "Martin")
    number = re.findall(r"account (\d{8}) opened", capsys.readouterr().out)[0]
    assert _run(url, "ledger", "check") == 0
    assert "held points equal the pending holds" in capsys.readouterr().out

    # Written around the ledger: 40 points held by no hold.
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        db.execute("UPDATE accounts SET held = 40 WHERE number = ?", (number,))

    assert _run(url, "ledger", "check") == 1
    out = capsys.readouterr().out
    assert f"account {number} holds 40 points, its pending holds sum 0" in out


def test_the_statement_says_how_many_points_are_held(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _issue_one(url, capsys)
    _run(url, "ledger", "redeem", "new", code, "--holder", "Martin")
    number = re.findall(r"account (\d{8}) opened", capsys.readouterr().out)[0]

    async def hold() -> None:
        engine = create_engine(url)
        try:
            ledger = LedgerService(session_factory(engine), FakeClock(NIGHT), LedgerConfig())
            await ledger.holds.place(number, "1.1", amount=100, attach=ATTACH)
        finally:
            await engine.dispose()

    asyncio.run(hold())

    assert _run(url, "ledger", "statement", number) == 0
    assert (
        f"account {number}: balance 100 points (100 held for emergency calls in progress)"
        in capsys.readouterr().out
    )
