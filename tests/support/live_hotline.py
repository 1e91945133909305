"""For the tests over real TCP (the PBX simulator, the AMI link, the router, a database):
a router process, a customer, and a proxy that cuts the AMI link around a Redirect."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

from aiohttp import web

from callrouter.clock import FakeClock
from callrouter.config import Config
from callrouter.server.hotline import Hotline, PBXLink
from callrouter.server.runtime import build_app

#: The simulator's AMI secret; the tests' SimulatorSettings use it too.
SECRET = "s3cret-for-tests"
#: Safety net only: the link comes up on its own.
LINK_LIMIT = 20.0


@contextlib.asynccontextmanager
async def hotline_on(database_url: str, port: int, now: datetime) -> AsyncIterator[Hotline]:
    """A router process whose clock stands at `now`: database, PBX link, router, record
    writer (no HTTP site), yielded once its link to the PBX on `port` is up."""
    hotline = Hotline(
        config=Config(),
        database_url=database_url,
        pbx=PBXLink("127.0.0.1", port, "callrouter", SECRET),
        clock=FakeClock(now),
    )
    runner = web.AppRunner(build_app(hotline))
    await runner.setup()
    try:
        async with asyncio.timeout(LINK_LIMIT):
            while not (hotline.ami is not None and hotline.ami.connected):
                await asyncio.sleep(0.01)
        yield hotline
    finally:
        await runner.cleanup()


async def new_customer(hotline: Hotline, caller_id: str) -> str:
    """An account with 500 points whose one beneficiary calls from `caller_id`."""
    assert hotline.identity is not None and hotline.ledger is not None
    account = await hotline.identity.create_account("Claire Lefèvre", pin="903114")
    await hotline.identity.add_beneficiary(account.number, "Claire Lefèvre", caller_id)
    await hotline.ledger.credit(
        account.number, 500, reason="test", idempotency_key=f"test:{account.number}"
    )
    return account.number


class CuttingProxy:
    """Between the router and the PBX. Armed with `before_redirect`, it hangs up on both
    sides instead of passing the router's Redirect on; armed without, it passes the
    Redirect and hangs up instead of passing the PBX's answer. Each cut disarms it."""

    def __init__(self, pbx_port: int) -> None:
        self._pbx_port = pbx_port
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.armed = False
        self.before_redirect = True
        self.cuts = 0

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._connect, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pbx_reader, pbx_writer = await asyncio.open_connection("127.0.0.1", self._pbx_port)
        upstream = asyncio.create_task(self._pump(reader, pbx_writer, b"Action: Redirect", True))
        downstream = asyncio.create_task(
            self._pump(pbx_reader, writer, b"Redirect successful", False)
        )
        self._tasks |= {upstream, downstream}
        await asyncio.wait({upstream, downstream}, return_when=asyncio.FIRST_COMPLETED)
        for task in (upstream, downstream):
            task.cancel()
        await asyncio.gather(upstream, downstream, return_exceptions=True)
        self._tasks -= {upstream, downstream}
        for side in (writer, pbx_writer):
            side.transport.abort()

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        marker: bytes,
        before: bool,
    ) -> None:
        while data := await reader.read(65536):
            if self.armed and self.before_redirect is before and marker in data:
                self.armed = False
                self.cuts += 1
                return
            writer.write(data)
            await writer.drain()

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()
