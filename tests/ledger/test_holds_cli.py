"""`callrouter ledger check` also proves the held points: each account's `held` is the sum
of its pending holds, within its balance."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from .test_cli import _issue_one, _run


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
