"""Console sign-in sessions, kept in memory: a restart signs everyone out, which is fine
for a screen that signs in again with one form.

The cookie carries a random token; the store keys sessions by its SHA-256 so that a
memory dump does not hand out live cookies. Each session has its own CSRF token (the
sign-out form carries it) and ends at a fixed time after sign-in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from callrouter.clock import Clock
from callrouter.http.access import Role


@dataclass(frozen=True)
class ConsoleSession:
    #: The SHA-256 of the cookie's token: names the session (never the token itself).
    id: str
    operator: str
    role: Role
    key_id: str
    csrf: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    def __init__(self, clock: Clock, lifetime: timedelta) -> None:
        self._clock = clock
        self._lifetime = lifetime
        self._sessions: dict[str, ConsoleSession] = {}

    def open(self, operator: str, role: Role, key_id: str) -> tuple[str, ConsoleSession]:
        """A new session: (the cookie's token, the session)."""
        self._forget_expired()
        token = secrets.token_urlsafe(32)
        session = ConsoleSession(
            id=_digest(token),
            operator=operator,
            role=role,
            key_id=key_id,
            csrf=secrets.token_urlsafe(24),
            expires_at=self._clock.now() + self._lifetime,
        )
        self._sessions[session.id] = session
        return token, session

    def get(self, token: str | None) -> ConsoleSession | None:
        """The live session of a cookie's token, or None (unknown, signed out, expired)."""
        if not token:
            return None
        session = self._sessions.get(_digest(token))
        if session is None:
            return None
        if not self.live(session):
            del self._sessions[session.id]
            return None
        return session

    def live(self, session: ConsoleSession) -> bool:
        return session.id in self._sessions and self._clock.now() < session.expires_at

    def close(self, session: ConsoleSession) -> None:
        self._sessions.pop(session.id, None)

    def _forget_expired(self) -> None:
        now = self._clock.now()
        for session in [s for s in self._sessions.values() if now >= s.expires_at]:
            del self._sessions[session.id]
