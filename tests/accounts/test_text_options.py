"""The commands that take names, summaries and reasons refuse control and bidi characters
with the option named, before anything reaches the database."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from callrouter.identity.cli import register as register_accounts
from callrouter.ledger.cli import register as register_ledger


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="callrouter")
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--database-url", default=None)
    commands = parser.add_subparsers(dest="command")
    register_accounts(commands)
    register_ledger(commands)
    return parser.parse_args(list(argv))


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (("account", "create", "--holder", "Durand\x00SA"), "--holder"),
        (
            ("account", "add-beneficiary", "12345678", "--name", "Zo\u202eé", "--caller-id", "06"),
            "--name",
        ),
        (("ledger", "redeem", "new", "CODE", "--holder", "A\x1bB"), "--holder"),
        (("ledger", "adjust", "12345678", "5", "--reason", "geste\x00"), "--reason"),
        (
            (
                "incident",
                "open",
                "12345678",
                "--level",
                "standard",
                "--pass",
                "4h",
                "--summary",
                "a\x00",
            ),
            "--summary",
        ),
        (("incident", "reclassify", "1", "non-attributable", "--reason", "\u2066x"), "--reason"),
        (("ledger", "adjust", "12345678", "5", "--reason", "r", "--key", "k\x00"), "--key"),
    ],
)
def test_refused_with_the_option_named(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], option: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        _parse(*argv)
    assert exited.value.code == 2
    assert f"argument {option}: must not contain" in capsys.readouterr().err


def test_people_s_text_passes_trimmed() -> None:
    args = _parse(
        "incident",
        "open",
        "1",
        "--level",
        "standard",
        "--pass",
        "4h",
        "--summary",
        " Écran noir\r\ndepuis hier ",
    )
    assert args.summary == "Écran noir\ndepuis hier"
    assert _parse("account", "create", "--holder", " مريم بن علي ").holder == "مريم بن علي"
