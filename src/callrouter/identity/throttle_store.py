"""The throttle counters in the database: read before a code is checked, written after.

The rule itself is identity/throttle.py; this module only loads and stores its counters, in
one table keyed by (channel, scope, key), so that every instance and every restart sees the
same budgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Select,
    and_,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.identity.models import SignInCounter
from callrouter.identity.throttle import (
    Counter,
    Scope,
    SignInPolicy,
    after_failed_attempt,
    blocked_until,
)

#: The hotline-wide counter's key.
_EVERYONE = "*"


class Channel(StrEnum):
    PIN = "pin"
    WEB = "web"


@dataclass(frozen=True)
class Attempt:
    """One try of a code: on which channel, for which account as typed, from where."""

    channel: Channel
    entry: str
    source: str

    def key(self, scope: Scope) -> str:
        return {
            Scope.PAIR: f"{self.entry}|{self.source}",
            Scope.SOURCE: self.source,
            Scope.ACCOUNT: self.entry,
            Scope.OVERALL: _EVERYONE,
        }[scope]


@dataclass(frozen=True)
class Standing:
    """What the counters say about an attempt before its code is checked."""

    counters: dict[Scope, Counter]
    #: The source once succeeded on this account.
    proven: bool

    def blocked_until(self, *, known_source: bool, now: datetime) -> datetime | None:
        return blocked_until(self.counters, known_source=known_source, now=now)

    @property
    def pair_is_clean(self) -> bool:
        """Nothing to write after a success: the pair is proven and has no failures."""
        return self.proven and self.counters.get(Scope.PAIR, Counter()) == Counter()


class ThrottleStore:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], policies: dict[Channel, SignInPolicy]
    ) -> None:
        self._sessions = sessions
        self._policies = policies

    async def standing(self, session: AsyncSession, attempt: Attempt) -> Standing:
        """The counters of `attempt`, read in the caller's session (the PIN path reads the
        account in the same one: every round trip counts on the routing path). Plain
        columns, no ORM objects: nothing here is written back."""
        rows = (await session.execute(_STANDING.where(_keys(attempt, tuple(Scope))))).all()
        counters = {Scope(row.scope): Counter(*row[1:5]) for row in rows}
        proven = any(row.scope == Scope.PAIR and row.proven_at is not None for row in rows)
        return Standing(counters, proven)

    async def record_failure(
        self, attempt: Attempt, *, known_source: bool, now: datetime
    ) -> Standing:
        """Count a failure under every counter that judges the attempt, rows locked so that
        concurrent failures all count; returns the counters after it."""
        policy = self._policies[attempt.channel]
        async with self._sessions.begin() as session:
            rows = await self._locked_rows(session, attempt, known_source=known_source)
            before = {Scope(row.scope): _counter(row) for row in rows}
            after = after_failed_attempt(policy, before, known_source=known_source, now=now)
            proven = False
            for row in rows:
                proven = proven or (row.scope == Scope.PAIR and row.proven_at is not None)
                counter = after[Scope(row.scope)]
                row.failures = counter.failures
                row.window_started_at = counter.window_started_at
                row.blocked_until = counter.blocked_until
                row.strikes = counter.strikes
        return Standing(after, proven)

    async def record_success(self, attempt: Attempt, now: datetime) -> None:
        """The pair starts afresh and its source is known to the account from now on. The
        other counters keep their failures: a success on one's own account must not buy
        fresh tries on others."""
        async with self._sessions.begin() as session:
            await self._ensure_rows(session, attempt, (Scope.PAIR,))
            await session.execute(
                update(SignInCounter)
                .where(
                    SignInCounter.channel == attempt.channel.value,
                    SignInCounter.scope == Scope.PAIR.value,
                    SignInCounter.key == attempt.key(Scope.PAIR),
                )
                .values(
                    failures=0,
                    window_started_at=None,
                    blocked_until=None,
                    strikes=0,
                    proven_at=now,
                )
            )

    async def forget_spent(self, now: datetime) -> int:
        """Delete the counters that no longer change any answer (throttle.is_spent), so the
        table does not grow with every line an attacker ever used. Proven pairs stay."""
        forgotten = 0
        async with self._sessions.begin() as session:
            for channel, policies in self._policies.items():
                for scope in Scope:
                    policy = policies.of(scope)
                    result: CursorResult[tuple[()]] = await session.execute(  # type: ignore[assignment]
                        delete(SignInCounter).where(
                            SignInCounter.channel == channel.value,
                            SignInCounter.scope == scope.value,
                            SignInCounter.proven_at.is_(None),
                            or_(
                                SignInCounter.window_started_at.is_(None),
                                SignInCounter.window_started_at <= now - policy.window,
                            ),
                            or_(
                                SignInCounter.blocked_until.is_(None),
                                SignInCounter.blocked_until <= now - policy.max_delay,
                            ),
                        )
                    )
                    forgotten += result.rowcount
        return forgotten

    async def _locked_rows(
        self, session: AsyncSession, attempt: Attempt, *, known_source: bool
    ) -> list[SignInCounter]:
        scopes = (Scope.PAIR,) if known_source else tuple(Scope)
        await self._ensure_rows(session, attempt, scopes)
        # Always locked in the same order, so two failures never wait on each other.
        query = (
            _rows(attempt, scopes)
            .order_by(SignInCounter.scope, SignInCounter.key)
            .with_for_update()
        )
        return list((await session.scalars(query)).all())

    async def _ensure_rows(
        self, session: AsyncSession, attempt: Attempt, scopes: tuple[Scope, ...]
    ) -> None:
        values = [
            {"channel": attempt.channel.value, "scope": scope.value, "key": attempt.key(scope)}
            for scope in scopes
        ]
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(
                postgresql.insert(SignInCounter).values(values).on_conflict_do_nothing()
            )
        else:
            await session.execute(
                sqlite.insert(SignInCounter).values(values).on_conflict_do_nothing()
            )


_STANDING = select(
    SignInCounter.scope,
    SignInCounter.failures,
    SignInCounter.window_started_at,
    SignInCounter.blocked_until,
    SignInCounter.strikes,
    SignInCounter.proven_at,
)


def _keys(attempt: Attempt, scopes: tuple[Scope, ...]) -> ColumnElement[bool]:
    return and_(
        SignInCounter.channel == attempt.channel.value,
        or_(
            *(
                and_(SignInCounter.scope == scope.value, SignInCounter.key == attempt.key(scope))
                for scope in scopes
            )
        ),
    )


def _rows(attempt: Attempt, scopes: tuple[Scope, ...]) -> Select[SignInCounter]:
    return select(SignInCounter).where(_keys(attempt, scopes))


def _counter(row: SignInCounter) -> Counter:
    return Counter(row.failures, row.window_started_at, row.blocked_until, row.strikes)
