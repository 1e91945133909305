"""`callrouter db upgrade`: migrates the database it is given, explains what goes wrong."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from callrouter.db.cli import register, upgrade_command
from callrouter.db.migrate import head_revision


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="callrouter")
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--database-url", default=None)
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(list(argv))


def test_upgrade_creates_a_new_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    args = _parse("--database-url", url, "db", "upgrade")

    assert args.handler is upgrade_command
    assert args.handler(args) == 0
    assert args.handler(args) == 0

    assert (tmp_path / "new.db").exists()
    assert capsys.readouterr().out.splitlines()[-1].endswith(f"is at revision {head_revision()}")


def test_without_a_url_the_config_files_database_is_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "callrouter.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "from-config.db"}"\n',
        encoding="utf-8",
    )
    args = _parse("--config", str(config), "db", "upgrade")

    assert args.handler(args) == 0
    assert (tmp_path / "from-config.db").exists()


def test_a_bad_config_file_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "callrouter.toml"
    config.write_text("[database]\nurl = 42\n", encoding="utf-8")
    args = _parse("--config", str(config), "db", "upgrade")

    assert args.handler(args) == 1
    err = capsys.readouterr().err
    assert "database.url" in err and "Traceback" not in err


def test_upgrade_explains_a_bad_url(capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse("--database-url", "sqlite:///x.db", "db", "upgrade")

    assert args.handler(args) == 1
    assert "sqlite+aiosqlite" in capsys.readouterr().err


def test_upgrade_explains_an_unreachable_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
    args = _parse("--database-url", url, "db", "upgrade")

    assert args.handler(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("callrouter: database error:")
    assert "Traceback" not in err
