"""Reading appointments: as staff list them (with the expert who took the call at the slot),
as a holder sees theirs, and the booked quarter hours the availability is computed from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from callrouter.appointments.models import AppointmentQuarterRow, AppointmentRow
from callrouter.calendar import Window
from callrouter.callbacks.store import ATTEMPTS, CALLBACKS
from callrouter.db.types import EpochSeconds, JoinedText
from callrouter.experts.directory import ABSENCES, DOMAINS, EXPERTS
from callrouter.experts.rules import Absence, Expert
from callrouter.ledger.prices import AssistanceLevel
from callrouter.ledger.tables import ACCOUNTS, INCIDENTS


def _table(model: type[Any]) -> Table:
    table: Table = model.metadata.tables[model.__tablename__]
    return table


APPOINTMENTS = _table(AppointmentRow)
QUARTERS = _table(AppointmentQuarterRow)


@dataclass(frozen=True)
class AppointmentView:
    id: int
    account_number: str
    incident_id: int
    domain: str
    #: The expert reserved for the slot (rung first).
    expert_id: int
    expert_name: str
    expert_interface: str
    start: datetime
    end: datetime
    number_to_call: str
    summary: str
    level: AssistanceLevel
    third_party: bool
    state: str
    booked_by: str
    booked_at: datetime
    cancelled_at: datetime | None
    cancel_refunded: bool | None
    #: What the incident took when it opened, and the balance right after (a replay's figures).
    debited: int
    balance_after: int
    refunded_at: datetime | None
    #: Who took the call at the slot (or is taking it): the expert of its latest attempt an
    #: expert answered, who may not be the reserved one (busy or not answering: the
    #: dispatcher hands the call to another). None until an expert answered.
    taken_by_id: int | None = None
    taken_by_name: str | None = None

    @property
    def expert_on_call(self) -> str:
        """The name the listings give the appointment's expert (`named_expert`)."""
        return named_expert(self).name


@dataclass(frozen=True)
class NamedExpert:
    #: Their directory row; None when none matches who answered (see `named_expert`).
    id: int | None
    name: str


def named_expert(view: AppointmentView) -> NamedExpert:
    """The appointment's expert, by the one rule every surface names them by (the API's
    `expert` and its `expert_id` filter, `rdv list`, the demo screen, the console): once an
    expert answered the call at the slot, that expert, as the attempt names them; until then
    the reserved one. Who answered may match no directory row (removed before the attempt
    was claimed): they are still who took the call, with no id, rather than the reserved
    expert, who did not."""
    if view.taken_by_name is not None:
        return NamedExpert(view.taken_by_id, view.taken_by_name)
    return NamedExpert(view.expert_id, view.expert_name)


_TAKER = EXPERTS.alias("taker")
_TAKEN = ATTEMPTS.alias("taken")
# The latest attempt at the appointment's call that an expert answered.
_LATEST_TAKEN = (
    select(func.max(ATTEMPTS.c.id))
    .join(CALLBACKS, ATTEMPTS.c.callback_id == CALLBACKS.c.id)
    .where(
        CALLBACKS.c.appointment_id == APPOINTMENTS.c.id,
        ATTEMPTS.c.expert_answered_at.is_not(None),
    )
    .scalar_subquery()
)

_VIEW = (
    select(
        APPOINTMENTS,
        ACCOUNTS.c.number,
        EXPERTS.c.name.label("expert_name"),
        EXPERTS.c.interface.label("expert_interface"),
        INCIDENTS.c.debited,
        INCIDENTS.c.balance_after,
        INCIDENTS.c.refunded_at,
        _TAKER.c.id.label("taken_by_id"),
        _TAKEN.c.expert.label("taken_by_name"),
    )
    .join_from(APPOINTMENTS, ACCOUNTS, APPOINTMENTS.c.account_id == ACCOUNTS.c.id)
    .join(EXPERTS, APPOINTMENTS.c.expert_id == EXPERTS.c.id)
    .join(INCIDENTS, APPOINTMENTS.c.incident_id == INCIDENTS.c.id)
    .outerjoin(_TAKEN, _TAKEN.c.id == _LATEST_TAKEN)
    # An attempt names its expert (name and interface, as the dialplan dialled them): the
    # one directory row with both that was active when the attempt was claimed (a removed
    # expert's name may be given to a new one later).
    .outerjoin(
        _TAKER,
        and_(
            _TAKER.c.name == _TAKEN.c.expert,
            _TAKER.c.interface == _TAKEN.c.interface,
            _TAKER.c.added_at <= _TAKEN.c.claimed_at,
            or_(_TAKER.c.removed_at.is_(None), _TAKER.c.removed_at > _TAKEN.c.claimed_at),
        ),
    )
)


async def read_views(
    connection: AsyncConnection, *where: ColumnElement[bool], limit: int | None = None
) -> list[AppointmentView]:
    """Appointments matching `where`, by slot start then id."""
    query = _VIEW.where(*where).order_by(APPOINTMENTS.c.slot_start, APPOINTMENTS.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [
        AppointmentView(
            id=row.id,
            account_number=row.number,
            incident_id=row.incident_id,
            domain=row.domain,
            expert_id=row.expert_id,
            expert_name=row.expert_name,
            expert_interface=row.expert_interface,
            start=row.slot_start,
            end=row.slot_end,
            number_to_call=row.number_to_call,
            summary=row.summary,
            level=AssistanceLevel(row.level),
            third_party=row.third_party,
            state=row.state,
            booked_by=row.booked_by,
            booked_at=row.booked_at,
            cancelled_at=row.cancelled_at,
            cancel_refunded=row.cancel_refunded,
            debited=row.debited,
            balance_after=row.balance_after,
            refunded_at=row.refunded_at,
            taken_by_id=row.taken_by_id,
            taken_by_name=row.taken_by_name,
        )
        for row in await connection.execute(query)
    ]


@dataclass(frozen=True)
class AppointmentFilter:
    since: datetime | None = None
    until: datetime | None = None
    domain: str | None = None
    #: The expert the listings name (the API's `expert`), not only the reserved one.
    expert_id: int | None = None
    state: str | None = None
    account_number: str | None = None
    limit: int = 200


async def find(connection: AsyncConnection, where: AppointmentFilter) -> list[AppointmentView]:
    conditions: list[ColumnElement[bool]] = []
    if where.since is not None:
        conditions.append(APPOINTMENTS.c.slot_start >= where.since)
    if where.until is not None:
        conditions.append(APPOINTMENTS.c.slot_start < where.until)
    if where.domain is not None:
        conditions.append(APPOINTMENTS.c.domain == where.domain)
    if where.state is not None:
        conditions.append(APPOINTMENTS.c.state == where.state)
    if where.account_number is not None:
        conditions.append(ACCOUNTS.c.number == where.account_number)
    if where.expert_id is None:
        return await read_views(connection, *conditions, limit=where.limit)
    # The appointments whose named expert is this one, a reader asks for: the database only
    # narrows them to those the expert is reserved for or took, and `named_expert` decides,
    # so the filter cannot drift from what the listings name.
    expert_id = where.expert_id
    conditions.append(or_(_TAKER.c.id == expert_id, APPOINTMENTS.c.expert_id == expert_id))
    views = await read_views(connection, *conditions)
    return [view for view in views if named_expert(view).id == expert_id][: where.limit]


_DOMAIN = DOMAINS.alias("domain")
# One round trip and one row per expert of the domain (one more per absence beyond the first
# that overlaps the span): the expert, an absence, and as joined text their domains and their
# booked quarters (seconds since the epoch). A row per booked quarter, as the query read
# before, cost more in rows than all the rest. Built once: building and keying the
# statement cost more than running it.
_DUTY = (
    select(
        EXPERTS.c.name,
        EXPERTS.c.interface,
        EXPERTS.c.hours,
        select(JoinedText(_DOMAIN.c.domain))
        .where(_DOMAIN.c.expert_id == EXPERTS.c.id)
        .scalar_subquery()
        .label("domains"),
        ABSENCES.c.starts_at,
        ABSENCES.c.ends_at,
        select(JoinedText(EpochSeconds(QUARTERS.c.quarter_start)))
        .where(
            QUARTERS.c.expert_id == EXPERTS.c.id,
            QUARTERS.c.quarter_start >= bindparam("start"),
            QUARTERS.c.quarter_start < bindparam("end"),
        )
        .scalar_subquery()
        .label("booked"),
    )
    .outerjoin(
        ABSENCES,
        and_(
            ABSENCES.c.expert_id == EXPERTS.c.id,
            ABSENCES.c.ends_at > bindparam("start"),
            ABSENCES.c.starts_at < bindparam("end"),
        ),
    )
    .where(
        EXPERTS.c.removed_at.is_(None),
        EXPERTS.c.id.in_(
            select(DOMAINS.c.expert_id).where(DOMAINS.c.domain == bindparam("domain"))
        ),
    )
)


async def domain_duty(
    connection: AsyncConnection,
    domain: str,
    start: datetime,
    end: datetime,
    window: Callable[[str], Window],
) -> tuple[list[Expert], dict[str, list[int]]]:
    """The active experts of `domain` with their absences that overlap [start, end) (those
    are all the availability rules can see of them), and by name the quarter hours in
    [start, end) already reserved for them, as their starts in seconds since the epoch.
    `window` gives the calendar window an expert's hours name."""
    found: dict[str, Any] = {}
    absences: dict[str, list[Absence]] = {}
    for row in await connection.execute(_DUTY, {"domain": domain, "start": start, "end": end}):
        found.setdefault(row.name, row)
        if row.starts_at is not None:
            absences.setdefault(row.name, []).append(Absence(row.starts_at, row.ends_at))
    experts = [
        Expert(
            name=name,
            interface=row.interface,
            # Domain keys hold no comma (experts.rules.Domain).
            domains=frozenset(row.domains.split(",")),
            hours=window(row.hours),
            absences=tuple(sorted(absences.get(name, ()), key=lambda a: a.start)),
        )
        for name, row in found.items()
    ]
    booked = {
        name: list(map(int, row.booked.split(","))) if row.booked else []
        for name, row in found.items()
    }
    return experts, booked
