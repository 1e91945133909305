"""Confirmed beneficiaries' caller IDs and the accounts' balances, in memory, kept true by
PostgreSQL's notifications (PostgreSQL only).

Every call starts by recognising its caller ID. The query costs little in the database,
but its round trip cost the router about 0.3-0.5 ms of CPU per call (asyncpg, the
socket's system calls), a third of all the CPU a routed call took. Here the answer is a
dictionary lookup:

- At start, LISTEN on `callrouter_callers` first, then every account's balance and every
  confirmed active beneficiary are read; notifications that came meanwhile are applied on
  top, in order.
- Migration 0016's triggers notify each committed balance with its new value (`a <id>
  <balance>`), in commit order, so the last one applied is the current balance; and each
  changed beneficiary by caller ID (`b <caller id>`): that caller ID is read again, and
  until the read is in, the caller is looked up in the database as before.
- When the LISTEN connection is lost, notifications may be lost with it: everything goes
  back to the database until the index is loaded again on a new connection.

So the index answers what the database would have answered a few milliseconds earlier
(the time a notification takes), never anything else. That is enough for money: routing
only compares the balance with the price of the pass chosen (an advisory check, as the
query's answer also was by the time a coordinator opened the incident); every debit,
and an emergency's hold, is checked again under the account's row lock by the ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Final

import structlog

from callrouter.db.hotpool import HotPool

log = structlog.get_logger(__name__)

CHANNEL: Final = "callrouter_callers"
#: The hot path's query (identity/service.py), without the balance: balances come from
#: the load and the notifications only, so a read that races a newer notification can
#: never put an older balance back.
_ONE_CALLER = (
    "SELECT beneficiaries.account_id, accounts.number, beneficiaries.name "
    "FROM beneficiaries JOIN accounts ON accounts.id = beneficiaries.account_id "
    "WHERE beneficiaries.caller_id = $1 AND beneficiaries.removed_at IS NULL"
    " AND beneficiaries.confirmed_at IS NOT NULL"
)
_ALL_CALLERS = (
    "SELECT beneficiaries.caller_id, beneficiaries.account_id, accounts.number,"
    " beneficiaries.name "
    "FROM beneficiaries JOIN accounts ON accounts.id = beneficiaries.account_id "
    "WHERE beneficiaries.removed_at IS NULL AND beneficiaries.confirmed_at IS NOT NULL"
)
_ALL_BALANCES = "SELECT id, balance FROM accounts"
#: Waits between attempts to listen again after the connection was lost.
_RETRY_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class KnownCaller:
    account_number: str
    beneficiary_name: str
    balance: int


@dataclass(frozen=True, slots=True)
class _Entry:
    account_id: int
    account_number: str
    name: str


class _Unsure:
    """The index cannot answer for this caller ID: ask the database."""


UNSURE: Final = _Unsure()


class CallerIndex:
    """Owns its LISTEN connection and the tasks that read callers again; `close` ends them."""

    def __init__(self, hot_pool: HotPool) -> None:
        self._pool = hot_pool
        self._callers: dict[str, _Entry] = {}
        self._balances: dict[int, int] = {}
        #: Caller IDs changed and not read again yet, with how many reads are under way.
        self._changed: dict[str, int] = {}
        self._ready = False
        #: Notifications received while loading, applied once the load is in.
        self._held: list[str] | None = None
        self._listener: Any = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._keeper: asyncio.Task[None] | None = None
        self._closed = False
        self._syncs: dict[str, asyncio.Future[None]] = {}

    @property
    def ready(self) -> bool:
        return self._ready

    def lookup(self, caller_id: str) -> KnownCaller | _Unsure | None:
        """The confirmed beneficiary of the normalised `caller_id` with their account's
        balance; None: nobody; UNSURE: ask the database."""
        if not self._ready or caller_id in self._changed:
            return UNSURE
        entry = self._callers.get(caller_id)
        if entry is None:
            return None
        balance = self._balances.get(entry.account_id)
        if balance is None:
            return UNSURE
        return KnownCaller(entry.account_number, entry.name, balance)

    async def start(self) -> None:
        """Listens and loads; if the database cannot be reached now, it keeps trying in the
        background and the callers are looked up in the database meanwhile."""
        try:
            await self._listen_and_load()
        except Exception as error:
            log.warning("identity.caller_index_unavailable", error=str(error))
            self._keep_trying()

    async def close(self) -> None:
        self._closed = True
        self._ready = False
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.gather(self._keeper, return_exceptions=True)
        await self._cancel_reads()
        await self._drop_listener()

    async def caught_up(self) -> None:
        """Returns once every change committed before this call is in the index: a marker
        notified now comes after them (commit order), then the reads it started end."""
        token = secrets.token_hex(8)
        arrived = asyncio.get_running_loop().create_future()
        self._syncs[token] = arrived
        async with self._pool.connection() as connection:
            await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, f"s {token}")
        await arrived
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _listen_and_load(self) -> None:
        listener = await self._pool.connect_alone()
        self._listener = listener
        self._held = []
        await listener.add_listener(CHANNEL, self._notified)
        listener.add_termination_listener(self._lost)
        async with self._pool.connection() as connection:
            balances = await connection.fetch(_ALL_BALANCES)
            callers = await connection.fetch(_ALL_CALLERS)
        self._balances = {row[0]: row[1] for row in balances}
        self._callers = {row[0]: _Entry(row[1], row[2], row[3]) for row in callers}
        held, self._held = self._held, None
        for payload in held:
            self._apply(payload)
        self._ready = True
        log.info("identity.caller_index_loaded", callers=len(callers), accounts=len(balances))

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        if self._held is not None:
            self._held.append(payload)
            return
        self._apply(payload)

    def _apply(self, payload: str) -> None:
        kind, _, rest = payload.partition(" ")
        if kind == "a":
            account_id, _, balance = rest.partition(" ")
            self._balances[int(account_id)] = int(balance)
        elif kind == "b":
            self._changed[rest] = self._changed.get(rest, 0) + 1
            self._spawn(self._read_again(rest))
        elif kind == "s":
            arrived = self._syncs.pop(rest, None)
            if arrived is not None and not arrived.done():
                arrived.set_result(None)

    async def _read_again(self, caller_id: str) -> None:
        try:
            async with self._pool.connection() as connection:
                row = await connection.fetchrow(_ONE_CALLER, caller_id)
        except Exception as error:
            # The database is away: this caller stays looked up in the database.
            log.warning("identity.caller_index_read_failed", error=str(error))
            return
        left = self._changed.get(caller_id, 0) - 1
        if left > 0:
            # A newer change is being read: its answer is the one to keep.
            self._changed[caller_id] = left
            return
        self._changed.pop(caller_id, None)
        if row is None:
            self._callers.pop(caller_id, None)
        else:
            self._callers[caller_id] = _Entry(row[0], row[1], row[2])

    def _lost(self, connection: Any) -> None:
        """The LISTEN connection closed: notifications may be lost, so nothing is trusted
        until everything is loaded again."""
        if self._closed or connection is not self._listener:
            return
        log.warning("identity.caller_index_lost")
        self._ready = False
        self._listener = None
        self._keep_trying()

    def _keep_trying(self) -> None:
        if self._closed or (self._keeper is not None and not self._keeper.done()):
            return
        self._keeper = asyncio.get_running_loop().create_task(
            self._reload(), name="caller-index-reload"
        )

    async def _reload(self) -> None:
        attempt = 0
        while not self._closed:
            await asyncio.sleep(_RETRY_DELAYS[min(attempt, len(_RETRY_DELAYS) - 1)])
            attempt += 1
            await self._drop_listener()
            # Reads started on the lost connection's notifications: the load supersedes them.
            await self._cancel_reads()
            self._changed.clear()
            try:
                await self._listen_and_load()
            except Exception as error:
                log.warning("identity.caller_index_unavailable", error=str(error))
                continue
            return

    async def _drop_listener(self) -> None:
        listener, self._listener = self._listener, None
        self._held = None
        if listener is not None:
            with contextlib.suppress(Exception):
                await listener.close()

    async def _cancel_reads(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
