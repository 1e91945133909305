"""`callrouter expert ...` and `callrouter rdv ...` end to end on a SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callrouter.calendar import PARIS, HotlineCalendar, next_opening
from callrouter.cli import main
from callrouter.identity.pepper import PIN_PEPPER_ENV


@pytest.fixture(autouse=True)
def _cli_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """`main` would point the (cached) loggers at this test's captured output, closed after
    it: later tests would then fail to log."""
    monkeypatch.setattr("callrouter.cli.configure_logging", lambda **_: None)
    monkeypatch.setenv(PIN_PEPPER_ENV, "a-test-pepper-that-is-long-enough-0123")


def _run(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, str]:
    code = main(["--database-url", url, *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_experts_and_an_appointment_from_the_shell(
    capsys: pytest.CaptureFixture[str], sqlite_url: str
) -> None:
    # The CLI runs on the system clock: the first weekday 10:00 at least 8 days from now.
    window = HotlineCalendar.default().window("appointments")
    day = next_opening(window, datetime.now(UTC) + timedelta(days=8))
    slot = day.astimezone(PARIS).replace(hour=10, minute=0).strftime("%Y-%m-%dT%H:%M")
    code, out = _run(
        capsys, sqlite_url, "expert", "add", "--name", "Léa", "--interface", "PJSIP/e7",
        "--domain", "knx",
    )  # fmt: skip
    assert code == 0 and "expert 1 Léa added" in out
    code, out = _run(capsys, sqlite_url, "expert", "add", "--name", "Z", "--interface",
                     "PJSIP/z", "--domain", "plumbing")  # fmt: skip
    assert code == 1 and "unknown domain(s) plumbing" in out
    code, out = _run(capsys, sqlite_url, "account", "create", "--holder", "Durand")
    account = out.split("account ")[1].split()[0]
    _run(capsys, sqlite_url, "ledger", "adjust", account, "60", "--reason", "test")
    code, out = _run(capsys, sqlite_url, "rdv", "slots", "--domain", "knx", "--from", slot,
                     "--to", slot.replace("T10:00", "T10:30"))  # fmt: skip
    assert code == 0 and out.count("capacity 1  Léa") == 2
    booking = ["--domain", "knx", "--level", "standard", "--slot", slot, "--number", "0612345678"]
    code, out = _run(capsys, sqlite_url, "rdv", "book", account, *booking)
    assert code == 0 and "appointment 1 booked" in out and "balance 10" in out
    code, out = _run(capsys, sqlite_url, "rdv", "list", "--day", slot[:10])
    assert "booked" in out and "Léa" in out
    code, out = _run(capsys, sqlite_url, "rdv", "cancel", "1")
    assert code == 0 and "50 points refunded" in out
