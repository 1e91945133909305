"""Opening a Pass 4H incident opens its callback, in the same transaction.

The coordinator gives the domain and, if it is not the number the caller called from, the
number to call back. The deadline is `rules.due_at` from the incident's opening instant.
Other passes open their incident as before, with no callback.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from callrouter.calendar import Window
from callrouter.callbacks import store
from callrouter.callbacks.config import CallbacksConfig
from callrouter.callbacks.models import DOMAIN_LENGTH
from callrouter.callbacks.rules import due_at
from callrouter.calls.models import CallRecord
from callrouter.errors import CallrouterError
from callrouter.experts.rules import Domain, ExpertRuleError
from callrouter.identity.callerid import normalise_caller_id
from callrouter.identity.errors import InvalidCallerId
from callrouter.ledger.opening import OpenedIncident
from callrouter.ledger.prices import AssistanceLevel, Classification
from callrouter.ledger.service import LedgerService
from callrouter.passes import Pass

log = structlog.get_logger(__name__)


class CallbackRequestError(CallrouterError):
    """A Pass 4H opening without what its callback needs; `field` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CallbackRequest:
    domain: str
    #: Given by the coordinator; None: the number of the call being handled.
    number: str | None = None


@dataclass(frozen=True)
class OpenedWithCallback:
    opened: OpenedIncident
    #: None for other passes.
    callback_id: int | None
    due_at: datetime | None


#: Told about a new callback (the dispatcher of this process plans its timers and looks).
Opened = Callable[[int], None]


class CallbackOpenings:
    def __init__(
        self,
        ledger: LedgerService,
        config: CallbacksConfig,
        windows: Mapping[str, Window],
        *,
        known_domains: Callable[[], Collection[str]] | None = None,
        flush_call_records: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._ledger = ledger
        self._config = config
        self._window = windows[config.window]
        self._known_domains = known_domains
        #: Routing writes call records in batches: the call being handled must be in.
        self._flush_call_records = flush_call_records
        self.opened: Opened = lambda callback_id: None

    async def open_incident(
        self,
        account_number: str,
        *,
        level: AssistanceLevel,
        pass_: Pass,
        idempotency_key: str,
        callback: CallbackRequest | None,
        third_party: bool = False,
        emergency: bool = False,
        classification: Classification = Classification.EXPERT,
        summary: str = "",
        call: str | None = None,
    ) -> OpenedWithCallback:
        """Open the incident; a Pass 4H one (not an emergency) with its callback, both or
        neither. CallbackRequestError when the domain or the number is missing or wrong."""
        wants_callback = pass_ is Pass.FOUR_HOURS and not emergency
        if not wants_callback and callback is not None:
            raise CallbackRequestError(
                "domain", "only a Pass 4H incident (not an emergency) has a callback"
            )
        created: list[tuple[int, datetime]] = []
        then = None
        if wants_callback:
            if callback is None:
                raise CallbackRequestError(
                    "domain", "a Pass 4H incident needs the domain the expert must cover"
                )
            domain = self._domain(callback.domain)
            explicit = _number(callback.number) if callback.number else None
            if explicit is None and self._flush_call_records is not None:
                await self._flush_call_records()

            async def then(connection: AsyncConnection, incident_id: int, at: datetime) -> None:
                number = explicit or await _number_of_call(connection, call)
                due = due_at(self._config.policy, self._window, at)
                callback_id = await store.insert_callback(
                    connection,
                    incident_id=incident_id,
                    domain=domain,
                    number=number,
                    opened_at=at,
                    due_at=due,
                )
                created.append((callback_id, due))

        opened = await self._ledger.incidents.open(
            account_number,
            level=level,
            pass_=pass_,
            idempotency_key=idempotency_key,
            third_party=third_party,
            emergency=emergency,
            classification=classification,
            summary=summary,
            call=call,
            then=then,
        )
        if not created:
            return OpenedWithCallback(opened, *await self._existing(opened.incident_id))
        callback_id, due = created[0]
        log.info("callbacks.opened", callback=callback_id, incident=opened.incident_id, due_at=due)
        self.opened(callback_id)
        return OpenedWithCallback(opened, callback_id, due)

    async def _existing(self, incident_id: int) -> tuple[int | None, datetime | None]:
        """A replayed opening: the callback the first request created, if any."""
        async with self._ledger.sessions() as session:
            row = (
                await session.execute(
                    select(store.CALLBACKS.c.id, store.CALLBACKS.c.due_at).where(
                        store.CALLBACKS.c.incident_id == incident_id
                    )
                )
            ).first()
        return (None, None) if row is None else (row.id, row.due_at)

    def _domain(self, key: str) -> str:
        key = key.strip()
        try:
            Domain(key, key)
        except ExpertRuleError as error:
            raise CallbackRequestError("domain", str(error)) from None
        if len(key) > DOMAIN_LENGTH:
            raise CallbackRequestError("domain", f"at most {DOMAIN_LENGTH} characters")
        if self._known_domains is not None:
            known = self._known_domains()
            if key not in known:
                listed = ", ".join(sorted(known)) or "none configured"
                raise CallbackRequestError("domain", f"no domain '{key}' ({listed})")
        return key


def _number(raw: str) -> str:
    try:
        return normalise_caller_id(raw)
    except InvalidCallerId as error:
        raise CallbackRequestError("callback_number", str(error)) from None


async def _number_of_call(connection: AsyncConnection, call: str | None) -> str:
    """The number the caller called from, as routing recorded it for that call."""
    if call is None:
        raise CallbackRequestError(
            "callback_number", "give the number to call back, or the call being handled"
        )
    caller_id = (
        await connection.execute(
            select(CallRecord.caller_id)
            .where(CallRecord.uniqueid == call.strip())
            .order_by(CallRecord.id.desc())
            .limit(1)
        )
    ).scalar()
    if not caller_id:
        raise CallbackRequestError(
            "callback_number",
            f"no recorded call {call.strip()!r} to take the number from: give the number",
        )
    return _number(caller_id)
