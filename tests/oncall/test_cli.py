"""`callrouter oncall ...`: people, rotations, overrides and feeds from the shell."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest

from callrouter.calendar import HotlineCalendar
from callrouter.clock import FakeClock
from callrouter.db.engine import create_engine, session_factory
from callrouter.oncall.cli import register
from callrouter.oncall.roster import Layer, Roster
from callrouter.oncall.service import RosterService

from ..support.cli import run_command

pytestmark = pytest.mark.usefixtures("logs_on_stderr")


def _run(url: str, *argv: str) -> int:
    return run_command(register, url, *argv)


async def _read(url: str, token: str) -> tuple[Roster, str | None]:
    engine = create_engine(url)
    try:
        service = RosterService(
            session_factory(engine), FakeClock(datetime.now(UTC)), HotlineCalendar.default().on_call
        )
        return await service.roster(), await service.feed_owner(token)
    finally:
        await engine.dispose()


def test_a_roster_from_the_shell(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(sqlite_url, "oncall", "now") == 0
    assert "no rotation is set" in capsys.readouterr().out
    assert (
        _run(sqlite_url, "oncall", "person", "add", "Emma Laurent", "--contact", "PJSIP/emma") == 0
    )
    assert _run(sqlite_url, "oncall", "person", "add", "Hugo", "--contact", "0611223344") == 0
    assert _run(sqlite_url, "oncall", "person", "add", "Hugo", "--contact", "PJSIP/h") == 1
    assert "already on the roster" in capsys.readouterr().err
    code = _run(
        sqlite_url,
        *("oncall", "rotation", "set", "primary", "--people", "Emma Laurent", "Hugo"),
        *("--every", "week", "--on", "mon", "--at", "08:00", "--from", "2025-03-05"),
    )
    assert code == 0
    # The first Monday on or after the 5th.
    assert "hand-off at 08:00 (Monday 2025-03-10 to Emma Laurent)" in capsys.readouterr().out
    code = _run(
        sqlite_url,
        *("oncall", "override", "add", "--replaces", "Hugo", "--by", "Emma Laurent"),
        *("--from", "2099-12-24T18:00", "--to", "2099-12-26T08:00"),
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "Thu 2099-12-24 18:00+0100 to Sat 2099-12-26 08:00+0100" in out
    assert _run(sqlite_url, "oncall", "override", "list") == 0
    assert re.search(r"^1  Emma Laurent replaces Hugo", capsys.readouterr().out, re.M)
    assert _run(sqlite_url, "oncall", "show", "--days", "14") == 0
    shown = capsys.readouterr().out
    assert "primary Emma Laurent" in shown and "primary Hugo" in shown
    assert _run(sqlite_url, "oncall", "now") == 0
    assert "next on call from" in capsys.readouterr().out
    assert _run(sqlite_url, "oncall", "person", "remove", "Hugo") == 1
    assert "in the primary rotation" in capsys.readouterr().err
    assert _run(sqlite_url, "oncall", "feed", "issue", "Hugo") == 0
    url = capsys.readouterr().out.split()[-1]
    token = url.removeprefix("http://127.0.0.1:8080/api/oncall/feeds/").removesuffix(".ics")
    roster, owner = asyncio.run(_read(sqlite_url, token))
    assert owner == "Hugo"
    assert roster.rotations[Layer.PRIMARY].people == ("Emma Laurent", "Hugo")
    assert _run(sqlite_url, "oncall", "feed", "revoke", "Hugo") == 0
    assert asyncio.run(_read(sqlite_url, token))[1] is None
    assert _run(sqlite_url, "oncall", "override", "remove", "1") == 0
    assert _run(sqlite_url, "oncall", "rotation", "clear", "primary") == 0
    assert _run(sqlite_url, "oncall", "person", "remove", "Hugo") == 0


def test_bad_times_are_one_clear_line(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _run(sqlite_url, "oncall", "person", "add", "Hugo", "--contact", "PJSIP/h")
    _run(sqlite_url, "oncall", "person", "add", "Emma", "--contact", "PJSIP/e")
    code = _run(
        sqlite_url,
        *("oncall", "override", "add", "--replaces", "Hugo", "--by", "Emma"),
        *("--from", "tonight", "--to", "2099-12-26T08:00"),
    )
    assert code == 1
    assert "'tonight' is not a date-time" in capsys.readouterr().err
    code = _run(
        sqlite_url,
        *("oncall", "override", "add", "--replaces", "Hugo", "--by", "Emma"),
        *("--from", "2099-12-26T08:00", "--to", "2099-12-24T08:00"),
    )
    assert code == 1
    assert "ends after it starts" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _run(sqlite_url, "oncall", "rotation", "set", "primary", "--people", "Hugo", "--every", "0")
