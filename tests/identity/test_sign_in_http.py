"""POST /api/account/sign-in as a stranger sees it: a real account and an invented one get
byte-for-byte the same answers, 401s then the same 429 and Retry-After."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.accounts.api import setup_account_api
from callrouter.clock import FakeClock
from callrouter.identity.codes import CodeHasher
from callrouter.identity.service import IdentityService
from callrouter.ledger.config import LedgerConfig

SECRET = b"s" * 32


Answer = tuple[int, str | None, str]


async def _answers(client: TestClient[web.Request, web.Application], number: str) -> list[Answer]:
    answers: list[Answer] = []
    for _ in range(7):
        response = await client.post(
            "/api/account/sign-in", json={"account_number": number, "web_code": "Wrong-code-99"}
        )
        answers.append(
            (response.status, response.headers.get("Retry-After"), await response.text())
        )
    return answers


async def test_a_real_and_an_invented_account_answer_alike(
    database_sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """Fails on main: the real account turned to 429 on the 5th failure, the invented one
    stayed at 401 forever."""
    cheap = CodeHasher(web_hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    identity = IdentityService(database_sessions, clock, hasher=cheap)
    real = await identity.create_account("Durand", web_code="Right-code-42")
    app = web.Application()
    setup_account_api(
        app, sessions=database_sessions, clock=clock, secret=SECRET, ledger_config=LedgerConfig()
    )
    async with TestClient(TestServer(app)) as client:
        for_real = await _answers(client, real.number)
        invented = "99999999" if real.number != "99999999" else "88888888"
        for_invented = await _answers(client, invented)
    assert for_real == for_invented
    assert [status for status, _, _ in for_real] == [401] * 4 + [429] * 3
