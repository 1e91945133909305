"""`callrouter operator ...`: the key is printed once, works, and stops working once revoked."""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog

from callrouter.accounts.cli import register
from callrouter.accounts.operators import OperatorService
from callrouter.clock import FakeClock
from callrouter.db.engine import create_engine, session_factory
from callrouter.logging import configure_logging


@pytest.fixture(autouse=True)
def _logs_on_stderr() -> Iterator[None]:
    before = structlog.get_config()
    configure_logging(level="info")
    yield
    structlog.configure(**before)


def _run(url: str, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="callrouter")
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--database-url", default=None)
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["--database-url", url, *argv])
    code: int = args.handler(args)
    return code


async def _authenticates(url: str, key: str) -> bool:
    engine = create_engine(url)
    try:
        service = OperatorService(session_factory(engine), FakeClock(datetime.now(UTC)))
        return await service.authenticate(key) is not None
    finally:
        await engine.dispose()


def test_create_prints_a_working_key_once_and_revoke_disables_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}"
    assert _run(url, "operator", "create", "--name", "Claire Dupont") == 0
    out = capsys.readouterr().out
    found = re.search(r"API key: (crk_\S+)", out)
    assert found is not None, out
    key = found.group(1)
    assert asyncio.run(_authenticates(url, key))

    assert _run(url, "operator", "list") == 0
    listed = capsys.readouterr().out
    assert "Claire Dupont" in listed and "active" in listed
    assert key not in listed

    assert _run(url, "operator", "create", "--name", "Claire Dupont") == 1
    assert "already has an active key" in capsys.readouterr().err

    assert _run(url, "operator", "revoke", "--name", "Claire Dupont") == 0
    assert not asyncio.run(_authenticates(url, key))
    assert _run(url, "operator", "revoke", "--name", "Claire Dupont") == 1
    assert "no operator 'Claire Dupont' with an active key" in capsys.readouterr().err


def test_an_empty_name_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}"
    assert _run(url, "operator", "create", "--name", "   ") == 1
    assert "the operator name is empty" in capsys.readouterr().err
