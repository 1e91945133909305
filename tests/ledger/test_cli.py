"""The ledger's commands, as a distributor and an operator use them (on a SQLite file)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from callrouter.ledger.cli import register

from ..support.cli import run_command

#: A Pass 4H incident opens with its callback (issue 8): the domain and the number.
CALLBACK = ("--domain", "knx", "--callback-number", "06 11 22 33 44")


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"


def _run(url: str, *argv: str, config: Path | None = None) -> int:
    return run_command(register, url, *argv, config=config)


def _codes(output: str) -> list[str]:
    return re.findall(r"^[0-9A-Z]{4}(?:-[0-9A-Z]{4}){6}$", output, flags=re.MULTILINE)


def _issue_one(url: str, capsys: pytest.CaptureFixture[str], pack: str = "FSACSP100C") -> str:
    assert _run(url, "codes", "issue", "--pack", pack) == 0
    (code,) = _codes(capsys.readouterr().out)
    return code


def test_a_distributor_issues_codes_and_a_first_order_opens_the_account(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(url, "codes", "issue", "--pack", "FSACSP50C", "--count", "3") == 0
    out = capsys.readouterr().out
    codes = _codes(out)
    assert len(set(codes)) == 3
    assert "pack FSACSP50C (50 points)" in out
    assert "cannot be shown again" in out

    assert _run(url, "ledger", "redeem", "new", codes[0], "--holder", "Durand SA") == 0
    out = capsys.readouterr().out
    number = re.search(r"account (\d{8}) opened for Durand SA", out)
    assert number is not None
    assert "phone access code (PIN):" in out
    assert f"account {number[1]} credited 50 points (pack FSACSP50C); balance 50" in out

    assert _run(url, "ledger", "redeem", number[1], codes[1].lower()) == 0
    assert "balance 100" in capsys.readouterr().out
    assert _run(url, "ledger", "redeem", number[1], codes[1]) == 0
    assert "already redeemed by this account: nothing changed" in capsys.readouterr().out

    assert _run(url, "ledger", "statement", number[1]) == 0
    out = capsys.readouterr().out
    lines = out[out.index(f"account {number[1]}: balance") :].splitlines()
    assert lines[0] == f"account {number[1]}: balance 100 points"
    assert len(lines) == 3
    assert all(" credit " in line and "+50 ->" in line for line in lines[1:])


def test_operator_opens_shows_and_reclassifies_an_incident(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _issue_one(url, capsys, "FSACSP200C")
    _run(url, "ledger", "redeem", "new", code, "--holder", "Martin")
    number = re.findall(r"account (\d{8}) opened", capsys.readouterr().out)[0]

    argv = ("incident", "open", number, "--level", "advanced", "--pass", "prioritaire")
    assert _run(url, *argv, "--third-party", "--key", "k1") == 1
    assert "has 200 points, 250 are needed" in capsys.readouterr().err
    assert _run(url, *argv, "--summary", "drive fault", "--key", "k2") == 0
    out = capsys.readouterr().out
    assert (
        f"incident 1 opened on account {number}: price 150, 150 points debited, balance 50" in out
    )
    assert _run(url, *argv, "--key", "k2") == 0
    assert "balance 50 (replayed: nothing changed)" in capsys.readouterr().out

    assert _run(url, "incident", "reclassify", "1", "non-attributable", "--reason", "quality") == 0
    assert "150 points refunded" in capsys.readouterr().out
    assert _run(url, "incident", "reclassify", "1", "non-attributable", "--reason", "again") == 0
    assert "already refunded (150 points): nothing changed" in capsys.readouterr().out

    assert _run(url, "incident", "show", "1") == 0
    out = capsys.readouterr().out
    assert "advanced assistance, pass prioritaire; non-attributable" in out
    assert "reclassified: expert -> non-attributable: quality" in out
    assert _run(url, "ledger", "check") == 0
    assert "every cached balance equals" in capsys.readouterr().out


def test_a_key_reused_for_a_different_incident_is_one_clear_line(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _issue_one(url, capsys, "FSACSP200C")
    _run(url, "ledger", "redeem", "new", code, "--holder", "Martin")
    number = re.findall(r"account (\d{8}) opened", capsys.readouterr().out)[0]
    argv = ("incident", "open", number, "--pass", "4h", *CALLBACK, "--key", "ticket-9")
    assert _run(url, *argv, "--level", "standard") == 0
    capsys.readouterr()

    assert _run(url, *argv, "--level", "advanced") == 1

    err = capsys.readouterr().err
    assert err == (
        "callrouter: idempotency key 'ticket-9' was already used for incident 1, opened by a "
        "different request (level, pass, third party, emergency or classification): "
        "use a new key\n"
    )
    assert _run(url, "ledger", "statement", number) == 0
    assert "balance 165 points" in capsys.readouterr().out


def test_errors_are_one_clear_line(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(url, "codes", "issue", "--pack", "FSACSP20C") == 1
    assert capsys.readouterr().err.startswith("callrouter: unknown recharge pack 'FSACSP20C'")
    assert _run(url, "ledger", "redeem", "12345678", "AAAA-BBBB") == 1
    assert "this recharge code does not exist" in capsys.readouterr().err
    assert _run(url, "ledger", "redeem", "new", "AAAA-BBBB") == 2
    assert "--holder" in capsys.readouterr().out
    assert _run(url, "codes", "issue", "--pack", "FSACSP50C", "--expires-days", "0") == 2
    code = _issue_one(url, capsys)
    assert _run(url, "ledger", "redeem", "new", code, "--holder", "Petit") == 0
    number = re.findall(r"account (\d{8}) opened", capsys.readouterr().out)[0]
    argv = ("incident", "open", number, "--level", "standard", "--pass", "4h", "--emergency")
    assert _run(url, *argv) == 1
    assert "emergency assistance is not available with the 4h pass" in capsys.readouterr().err
    assert _run(url, "ledger", "adjust", number, "-101", "--reason", "typo") == 1
    err = capsys.readouterr().err
    assert "has 100 points, 101 are needed" in err
    assert "Traceback" not in err


def test_check_reports_a_tampered_balance(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _issue_one(url, capsys)
    _run(url, "ledger", "redeem", "new", code, "--holder", "Roux")
    number = re.findall(r"account (\d{8}) opened", capsys.readouterr().out)[0]
    with sqlite3.connect(tmp_path / "ledger.db") as database:
        database.execute("UPDATE accounts SET balance = balance + 25")

    assert _run(url, "ledger", "check") == 1
    out = capsys.readouterr().out
    assert "1 account(s) whose cached balance is wrong" in out
    assert f"account {number}: cached balance 125, movements sum 100 (off by +25)" in out

    # Half a point on both sides: the sums agree, the fraction is still found.
    with sqlite3.connect(tmp_path / "ledger.db") as database:
        database.execute("UPDATE accounts SET balance = 100.5")
        database.execute("UPDATE ledger_movements SET amount = amount + 0.5")
    assert _run(url, "ledger", "check") == 1
    assert (
        f"account {number}: cached balance 100.5, movements sum 100.5 (off by +0.0); "
        "1 movement(s) not in whole points"
    ) in capsys.readouterr().out


def test_the_config_file_sets_packs_and_code_validity(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "callrouter.toml"
    config.write_text(
        "[ledger]\ncode_validity_days = 30\n"
        '[[ledger.packs]]\nreference = "TEST10"\npoints = 10\n'
        'price_per_point_eur = "3.00"\nprice_eur = "30.00"\n',
        encoding="utf-8",
    )

    assert _run(url, "codes", "issue", "--pack", "TEST10", config=config) == 0
    assert "pack TEST10 (10 points)" in capsys.readouterr().out
    config.write_text("[ledger.prices.standard]\n'4h' = -1\n", encoding="utf-8")
    assert _run(url, "ledger", "check", config=config) == 1
    assert "ledger.prices.standard.4h" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("config_text", "shown"),
    [
        # The demo started at 19:00 in Paris (18:00 UTC) lists its movements at 19:00.
        ("", "2026-11-24 19:00+01:00"),
        ('[calendar]\ntimezone = "America/Montreal"\n', "2026-11-24 13:00-05:00"),
    ],
    ids=["default-paris", "configured"],
)
def test_statements_and_incidents_show_times_in_the_calendar_time_zone(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], config_text: str, shown: str
) -> None:
    config = tmp_path / "callrouter.toml"
    config.write_text(config_text, encoding="utf-8")
    code = _issue_one(url, capsys)
    _run(url, "ledger", "redeem", "new", code, "--holder", "Roux")
    number = re.findall(r"account (\d{8}) opened", capsys.readouterr().out)[0]
    _run(url, "incident", "open", number, "--level", "standard", "--pass", "4h", *CALLBACK)
    with sqlite3.connect(tmp_path / "ledger.db") as database:
        # Stored as naive UTC text on SQLite: 18:00 UTC.
        database.execute("UPDATE ledger_movements SET created_at = '2026-11-24 18:00:00.000000'")
        database.execute("UPDATE incidents SET opened_at = '2026-11-24 18:00:00.000000'")
    capsys.readouterr()

    assert _run(url, "ledger", "statement", number, config=config) == 0
    lines = capsys.readouterr().out.splitlines()[-2:]
    assert [line.split(" credit")[0].split(" debit")[0].strip() for line in lines] == [shown] * 2
    assert _run(url, "incident", "show", "1", config=config) == 0
    assert f"opened {shown}: standard assistance" in capsys.readouterr().out
