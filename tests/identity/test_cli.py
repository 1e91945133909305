"""`callrouter account ...`: the handlers as the main command calls them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from callrouter.identity.cli import register
from callrouter.identity.pepper import PIN_PEPPER_ENV

from ..support.cli import run_command

pytestmark = pytest.mark.usefixtures("logs_on_stderr")


@pytest.fixture(autouse=True)
def _pepper(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PIN_PEPPER_ENV, "a-test-pepper-that-is-long-enough-0123")


def _run(url: str, *argv: str) -> int:
    return run_command(register, url, *argv)


@pytest.fixture
def fresh_url(tmp_path: Path) -> str:
    """Never migrated: the commands must migrate it themselves."""
    return f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"


def _opened_number(output: str) -> str:
    found = re.search(r"account (\d{8}) opened", output)
    assert found is not None, output
    return found.group(1)


def test_create_prints_number_and_codes_once(
    fresh_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(fresh_url, "account", "create", "--holder", "Durand SA", "--pin", "135790") == 0
    out = capsys.readouterr().out
    number = _opened_number(out)
    assert "phone access code (PIN): 135790" in out
    assert re.search(r"web access code:\s+\S{10,}", out)

    assert _run(fresh_url, "account", "show", number) == 0
    shown = capsys.readouterr().out
    assert f"{number}  Durand SA  balance 0 points" in shown
    assert "135790" not in shown


def test_beneficiaries_are_managed_and_shown(
    fresh_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(fresh_url, "account", "create", "--holder", "Durand")
    number = _opened_number(capsys.readouterr().out)

    assert (
        _run(
            fresh_url,
            "account",
            "add-beneficiary",
            number,
            "--name",
            "Marie Durand",
            "--caller-id",
            "+33 6 12 34 56 78",
        )
        == 0
    )
    assert "Marie Durand (0612345678) is now a beneficiary" in capsys.readouterr().out
    assert (
        _run(fresh_url, "account", "remove-beneficiary", number, "--caller-id", "0612345678") == 0
    )
    assert "is no longer a beneficiary" in capsys.readouterr().out

    _run(fresh_url, "account", "show", number)
    shown = capsys.readouterr().out
    assert "beneficiary Marie Durand (0612345678) since" in shown
    assert ", removed " in shown


def test_list_shows_every_account(fresh_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(fresh_url, "account", "list") == 0
    assert capsys.readouterr().out.strip() == "no accounts yet"
    _run(fresh_url, "account", "create", "--holder", "Durand")
    _run(fresh_url, "account", "create", "--holder", "Martin")
    capsys.readouterr()

    assert _run(fresh_url, "account", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert sorted(line.split("  ")[1] for line in lines) == ["Durand", "Martin"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["account", "show", "12345678"], "no account numbered '12345678'"),
        (["account", "create", "--holder", "Durand", "--pin", "12"], "a PIN has 4 to 12 digits"),
        (["account", "create", "--holder", " "], "the holder name is empty"),
        (
            ["account", "add-beneficiary", "12345678", "--name", "X", "--caller-id", "hidden"],
            "invalid caller id 'hidden'",
        ),
        (
            ["account", "remove-beneficiary", "12345678", "--caller-id", "0612345678"],
            "no account numbered",
        ),
    ],
)
def test_bad_input_fails_with_a_clear_message(
    fresh_url: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert _run(fresh_url, *argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("callrouter: ")
    assert message in err
    assert "Traceback" not in err


def test_a_bad_database_url_fails_with_a_clear_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _run("mysql://localhost/x", "account", "list") == 1
    assert "unsupported database 'mysql'" in capsys.readouterr().err


def test_create_needs_the_pin_pepper(
    fresh_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PIN_PEPPER_ENV)
    assert _run(fresh_url, "account", "create", "--holder", "Durand SA") == 1
    assert f"{PIN_PEPPER_ENV} is not set" in capsys.readouterr().err
    monkeypatch.setenv(PIN_PEPPER_ENV, "too-short")
    assert _run(fresh_url, "account", "create", "--holder", "Durand SA") == 1
    assert "at least 32 characters" in capsys.readouterr().err
    assert _run(fresh_url, "account", "list") == 0
    assert "no accounts yet" in capsys.readouterr().out
