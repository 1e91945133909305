"""What every use case of the ledger works with: the database, the clock, the settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from callrouter.clock import Clock
from callrouter.ledger.config import LedgerConfig


@dataclass(frozen=True)
class LedgerContext:
    sessions: async_sessionmaker[AsyncSession]
    #: The sessions' engine: the hot paths run on its connections directly.
    engine: AsyncEngine
    clock: Clock
    config: LedgerConfig

    @classmethod
    def of(
        cls, sessions: async_sessionmaker[AsyncSession], clock: Clock, config: LedgerConfig
    ) -> LedgerContext:
        engine = sessions.kw.get("bind")
        if not isinstance(engine, AsyncEngine):
            raise TypeError("the ledger needs sessions bound to an AsyncEngine")
        return cls(sessions, engine, clock, config)

    @property
    def on_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"
