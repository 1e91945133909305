"""`callrouter operator ...`: the key is printed once, works, and stops working once revoked."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from callrouter.accounts.cli import register
from callrouter.accounts.operators import OperatorService
from callrouter.clock import FakeClock
from callrouter.db.engine import create_engine, session_factory

from ..support.cli import run_command

pytestmark = pytest.mark.usefixtures("logs_on_stderr")


def _run(url: str, *argv: str) -> int:
    return run_command(register, url, *argv)


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


async def _role_of(url: str, key: str) -> str | None:
    engine = create_engine(url)
    try:
        service = OperatorService(session_factory(engine), FakeClock(datetime.now(UTC)))
        operator = await service.authenticate(key)
        return None if operator is None else operator.role.value
    finally:
        await engine.dispose()


def test_an_operator_gets_a_role_and_the_list_shows_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}"
    keys = {}
    for name, role in (("Claire", None), ("Sam", "supervisor"), ("Ada", "admin")):
        argv = ["operator", "create", "--name", name] + (["--role", role] if role else [])
        assert _run(url, *argv) == 0
        found = re.search(r"API key: (crk_\S+)", capsys.readouterr().out)
        assert found is not None
        keys[name] = found.group(1)
    assert asyncio.run(_role_of(url, keys["Claire"])) == "coordinator"
    assert asyncio.run(_role_of(url, keys["Sam"])) == "supervisor"
    assert asyncio.run(_role_of(url, keys["Ada"])) == "admin"
    assert _run(url, "operator", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[:2] for line in lines] == [
        ["Claire", "coordinator"],
        ["Sam", "supervisor"],
        ["Ada", "admin"],
    ]


@pytest.mark.parametrize("role", ["holder", "root"])
def test_a_role_outside_staff_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], role: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}"
    with pytest.raises(SystemExit):
        _run(url, "operator", "create", "--name", "Eve", "--role", role)
    assert "--role" in capsys.readouterr().err


def test_a_name_with_control_characters_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}"
    with pytest.raises(SystemExit):
        _run(url, "operator", "create", "--name", "Eve\u202eevE")
    assert "argument --name: must not contain bidirectional" in capsys.readouterr().err
