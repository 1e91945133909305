"""The experts' directory in the database: add, list, absences, removal, and the experts
of a domain as the pure rules see them (callrouter.experts.rules.Expert)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Table, and_, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from callrouter.calendar import CalendarError, HotlineCalendar, Window
from callrouter.clock import Clock
from callrouter.experts.config import ExpertsConfig
from callrouter.experts.errors import ExpertExists, InvalidExpert, UnknownDomain, UnknownExpert
from callrouter.experts.models import ExpertAbsenceRow, ExpertDomainRow, ExpertRow
from callrouter.experts.rules import Absence, Expert, ExpertRuleError, unknown_domains
from callrouter.textrules import UnsafeText, clean_text

log = structlog.get_logger(__name__)


def _table(model: type[Any]) -> Table:
    table: Table = model.metadata.tables[model.__tablename__]
    return table


EXPERTS = _table(ExpertRow)
DOMAINS = _table(ExpertDomainRow)
ABSENCES = _table(ExpertAbsenceRow)

# One round trip: a row per (expert, domain, absence not over yet at `now`). Built once:
# an availability query reads a domain's experts every time, and building and keying the
# statement cost more than running it.
_ACTIVE = (
    select(
        EXPERTS,
        DOMAINS.c.domain,
        ABSENCES.c.id.label("absence_id"),
        ABSENCES.c.starts_at,
        ABSENCES.c.ends_at,
        ABSENCES.c.reason,
    )
    .join(DOMAINS, DOMAINS.c.expert_id == EXPERTS.c.id)
    .outerjoin(
        ABSENCES,
        and_(ABSENCES.c.expert_id == EXPERTS.c.id, ABSENCES.c.ends_at > bindparam("now")),
    )
    .where(EXPERTS.c.removed_at.is_(None))
    .order_by(EXPERTS.c.name)
)
_ACTIVE_OF_DOMAIN = _ACTIVE.where(
    EXPERTS.c.id.in_(select(DOMAINS.c.expert_id).where(DOMAINS.c.domain == bindparam("domain")))
)


@dataclass(frozen=True)
class AbsenceEntry:
    id: int
    start: datetime
    end: datetime
    reason: str


#: Told (expert id, start, end) once an absence is recorded: appointments booked with the
#: expert then are re-assigned (callrouter.appointments.absences).
AbsenceHook = Callable[[int, datetime, datetime], Awaitable[object]]


@dataclass(frozen=True)
class ExpertEntry:
    """An expert as the directory holds them: the rules' Expert plus its bookkeeping."""

    id: int
    expert: Expert
    hours_window: str
    added_at: datetime
    absences: tuple[AbsenceEntry, ...]


class ExpertDirectory:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        calendar: HotlineCalendar | None = None,
        config: ExpertsConfig | None = None,
    ) -> None:
        """Without a calendar and [experts] settings, the SPEC's defaults."""
        self._sessions = sessions
        self._clock = clock
        self._calendar = calendar or HotlineCalendar.default()
        self.config = config or ExpertsConfig()
        self.on_absence: AbsenceHook | None = None

    async def all(self) -> list[Expert]:
        """Every active expert, with their absences not over yet, by name."""
        return [entry.expert for entry in await self.entries()]

    async def entries(self, domain: str | None = None) -> list[ExpertEntry]:
        async with self._sessions() as session:
            return await self.read(await session.connection(), domain)

    async def read(self, connection: AsyncConnection, domain: str | None) -> list[ExpertEntry]:
        """The active experts (of `domain` when given) in the caller's transaction."""
        now = self._clock.now()
        if domain is None:
            result = await connection.execute(_ACTIVE, {"now": now})
        else:
            result = await connection.execute(_ACTIVE_OF_DOMAIN, {"now": now, "domain": domain})
        rows: dict[int, Any] = {}
        domains: dict[int, set[str]] = defaultdict(set)
        found: dict[int, dict[int, AbsenceEntry]] = defaultdict(dict)
        for row in result:
            rows.setdefault(row.id, row)
            domains[row.id].add(row.domain)
            if row.absence_id is not None:
                found[row.id][row.absence_id] = AbsenceEntry(
                    row.absence_id, row.starts_at, row.ends_at, row.reason
                )
        absences = {
            expert_id: sorted(entries.values(), key=lambda a: (a.start, a.id))
            for expert_id, entries in found.items()
        }
        return [
            ExpertEntry(
                id=row.id,
                expert=Expert(
                    name=row.name,
                    interface=row.interface,
                    domains=frozenset(domains[row.id]),
                    hours=self._calendar.window(row.hours),
                    absences=tuple(Absence(a.start, a.end) for a in absences.get(row.id, ())),
                ),
                hours_window=row.hours,
                added_at=row.added_at,
                absences=tuple(absences.get(row.id, ())),
            )
            for row in rows.values()
        ]

    def hours_window(self, name: str) -> Window:
        """The calendar window an expert's `hours` names."""
        return self._calendar.window(name)

    async def entry(self, expert_id: int) -> ExpertEntry:
        for entry in await self.entries():
            if entry.id == expert_id:
                return entry
        raise UnknownExpert(f"numbered {expert_id}")

    async def add(
        self, name: str, interface: str, domains: Iterable[str], hours: str | None = None
    ) -> ExpertEntry:
        name = _clean(name, "name")
        interface = _clean(interface, "interface")
        keys = sorted(set(domains))
        self.check_domains(keys)
        window = hours or self.config.hours
        try:
            expert = Expert(name, interface, frozenset(keys), self._calendar.window(window))
        except CalendarError as error:
            raise InvalidExpert(str(error), "hours") from None
        except ExpertRuleError as error:
            raise InvalidExpert(str(error), "interface") from None
        now = self._clock.now()
        try:
            async with self._sessions.begin() as session:
                connection = await session.connection()
                expert_id: int = (
                    await connection.execute(
                        insert(EXPERTS).returning(EXPERTS.c.id),
                        {
                            "name": name,
                            "interface": interface,
                            "hours": window,
                            "added_at": now,
                            "removed_at": None,
                        },
                    )
                ).scalar_one()
                await connection.execute(
                    insert(DOMAINS), [{"expert_id": expert_id, "domain": key} for key in keys]
                )
        except IntegrityError:
            raise ExpertExists(f"the name {name!r} or the interface {interface!r}") from None
        log.info("experts.added", expert=name, interface=interface, domains=keys)
        return ExpertEntry(expert_id, expert, window, now, ())

    async def absent(self, name: str, start: datetime, end: datetime, reason: str) -> AbsenceEntry:
        """Record an absence of the expert named `name` from `start` to `end`."""
        try:
            Absence(start, end)
        except ExpertRuleError as error:
            raise InvalidExpert(str(error), "end") from None
        reason = _clean(reason, "reason", empty_ok=True)
        async with self._sessions.begin() as session:
            connection = await session.connection()
            expert_id = await self._active_id(connection, name)
            absence_id: int = (
                await connection.execute(
                    insert(ABSENCES).returning(ABSENCES.c.id),
                    {
                        "expert_id": expert_id,
                        "starts_at": start,
                        "ends_at": end,
                        "reason": reason,
                        "added_at": self._clock.now(),
                    },
                )
            ).scalar_one()
        log.info("experts.absent", expert=name, start=start.isoformat(), end=end.isoformat())
        if self.on_absence is not None:
            await self.on_absence(expert_id, start, end)
        return AbsenceEntry(absence_id, start, end, reason)

    async def remove(self, name: str) -> None:
        """Take the expert out of the directory; their past work keeps naming them."""
        async with self._sessions.begin() as session:
            connection = await session.connection()
            expert_id = await self._active_id(connection, name)
            await connection.execute(
                update(EXPERTS)
                .where(EXPERTS.c.id == expert_id)
                .values(removed_at=self._clock.now())
            )
        log.info("experts.removed", expert=name)

    async def name_of(self, expert_id: int) -> str:
        return (await self.entry(expert_id)).expert.name

    def check_domains(self, keys: Sequence[str]) -> None:
        if not keys:
            raise InvalidExpert("an expert covers at least one domain", "domains")
        unknown = unknown_domains(keys, self.config.domains)
        if unknown:
            raise UnknownDomain(unknown, [domain.key for domain in self.config.domains])

    async def _active_id(self, connection: AsyncConnection, name: str) -> int:
        expert_id = (
            await connection.execute(
                select(EXPERTS.c.id).where(EXPERTS.c.name == name, EXPERTS.c.removed_at.is_(None))
            )
        ).scalar_one_or_none()
        if expert_id is None:
            raise UnknownExpert(f"named {name!r}")
        return int(expert_id)


def _clean(value: str, field: str, *, empty_ok: bool = False) -> str:
    try:
        text = clean_text(value)
    except UnsafeText as error:
        raise InvalidExpert(f"{field}: {error}", field) from None
    if not text and not empty_ok:
        raise InvalidExpert(f"{field} must not be empty", field)
    return text
