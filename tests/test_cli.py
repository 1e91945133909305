"""The `callrouter` command: every subcommand has a --help, bad input gets a clear message."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from callrouter.cli import build_parser, main

# main() points structlog at the stderr pytest captures for one test: put it back after.
pytestmark = pytest.mark.usefixtures("logs_on_stderr")


def subcommand_paths() -> list[list[str]]:
    parser = build_parser()
    paths: list[list[str]] = []

    def walk(current: argparse.ArgumentParser, prefix: list[str]) -> None:
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    paths.append([*prefix, name])
                    walk(child, [*prefix, name])

    walk(parser, [])
    return paths


def test_the_main_jobs_are_there() -> None:
    names = {path[0] for path in subcommand_paths()}
    assert {"demo", "serve", "pbxsim", "db", "account", "codes", "ledger"} <= names


@pytest.mark.parametrize("path", subcommand_paths(), ids=" ".join)
def test_every_subcommand_has_help(path: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*path, "--help"])
    assert exit_info.value.code == 0
    assert "usage: callrouter" in capsys.readouterr().out


def test_no_subcommand_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_a_bad_config_file_is_a_clear_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[calendar]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    assert main(["--config", str(config), "serve"]) == 1
    err = capsys.readouterr().err
    assert "calendar.timezone" in err
    assert "Traceback" not in err


def test_a_bad_demo_start_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--start", "tomorrow-ish"]) == 1
    err = capsys.readouterr().err
    assert "--start" in err and "Traceback" not in err


def test_a_short_api_secret_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CALLROUTER_API_SECRET", "too-short")
    assert main(["serve"]) == 1
    assert "CALLROUTER_API_SECRET must be at least 32 characters" in capsys.readouterr().err
