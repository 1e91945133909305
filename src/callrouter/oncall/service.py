"""The roster in the database: people, rotations, overrides and feed tokens; and the
`Roster` the pure rules read, built from them."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time

import structlog
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.calendar import Window
from callrouter.clock import Clock
from callrouter.errors import CallrouterError
from callrouter.oncall.models import (
    CONTACT_MAX_LENGTH,
    PERSON_NAME_MAX_LENGTH,
    OnCallOverride,
    OnCallPerson,
    OnCallRotation,
    OnCallRotationMember,
)
from callrouter.oncall.roster import Layer, Override, Roster, RosterError, Rotation, Technician

log = structlog.get_logger(__name__)

#: A feed token: 256 random bits, URL-safe, in the URL a technician subscribes to.
FEED_TOKEN_BYTES = 32


class OnCallError(CallrouterError):
    """A roster change that cannot be made; the message says why."""


class NotOnRoster(OnCallError):
    """No such person, rotation or override."""


class RosterConflict(OnCallError):
    """The change clashes with what is there (a name taken, a person still on duty)."""


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    contact: str
    has_feed: bool


@dataclass(frozen=True)
class PlannedOverride:
    id: int
    override: Override


class RosterService:
    """Reads and changes the roster; every change is logged with who is concerned."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, window: Window
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._window = window

    async def roster(self) -> Roster:
        """The whole roster, as the rules read it (overrides in the order they were made)."""
        async with self._sessions() as session:
            if session.get_bind().dialect.name == "postgresql":
                # One snapshot for the four reads, so a change committed between two of
                # them cannot leave a turn or an override naming someone not read.
                await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            people = (await session.scalars(select(OnCallPerson))).all()
            names = {person.id: person.name for person in people}
            rotations = await self._rotations(session, names)
            overrides = (
                await session.scalars(select(OnCallOverride).order_by(OnCallOverride.id))
            ).all()
        return Roster(
            self._window,
            {person.name: Technician(person.name, person.contact) for person in people},
            rotations,
            tuple(_override(row, names) for row in overrides),
        )

    async def people(self) -> list[Person]:
        async with self._sessions() as session:
            rows = (await session.scalars(select(OnCallPerson).order_by(OnCallPerson.name))).all()
        return [_person(row) for row in rows]

    async def planned_overrides(self) -> list[PlannedOverride]:
        """Overrides not over yet, soonest first."""
        now = self._clock.now()
        async with self._sessions() as session:
            people = (await session.scalars(select(OnCallPerson))).all()
            names = {person.id: person.name for person in people}
            rows = (
                await session.scalars(
                    select(OnCallOverride)
                    .where(OnCallOverride.ends_at > now)
                    .order_by(OnCallOverride.starts_at, OnCallOverride.id)
                )
            ).all()
        return [PlannedOverride(row.id, _override(row, names)) for row in rows]

    async def add_person(self, name: str, contact: str) -> Person:
        name, contact = (
            _cleaned(name, "name", PERSON_NAME_MAX_LENGTH),
            _cleaned(contact, "contact", CONTACT_MAX_LENGTH),
        )
        row = OnCallPerson(name=name, contact=contact, created_at=self._clock.now())
        try:
            async with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            raise RosterConflict(f"{name!r} is already on the roster") from None
        log.info("oncall.person_added", person=name)
        return _person(row)

    async def remove_person(self, person_id: int) -> Person:
        """Remove someone, with their overrides; refused while a rotation names them."""
        async with self._sessions.begin() as session:
            row = await _person_row(session, person_id)
            layers = (
                await session.scalars(
                    select(OnCallRotationMember.layer).where(
                        OnCallRotationMember.person_id == person_id
                    )
                )
            ).all()
            if layers:
                raise RosterConflict(
                    f"{row.name} is in the {', '.join(sorted(set(layers)))} rotation: "
                    "set the rotation without them first"
                )
            await session.execute(
                delete(OnCallOverride).where(
                    or_(OnCallOverride.replaces_id == person_id, OnCallOverride.by_id == person_id)
                )
            )
            await session.delete(row)
        log.info("oncall.person_removed", person=row.name)
        return _person(row)

    async def set_rotation(
        self,
        layer: Layer,
        names: list[str],
        *,
        shift_days: int,
        handoff_at: time,
        first_handoff: date,
    ) -> Rotation:
        """Replace the rotation of `layer` (the people in turn order)."""
        rotation = _rotation(tuple(names), shift_days, handoff_at, first_handoff)
        with _concurrent_change():
            await self._write_rotation(layer, names, shift_days, handoff_at, first_handoff)
        log.info(
            "oncall.rotation_set",
            layer=layer.value,
            people=names,
            shift_days=shift_days,
            handoff_at=f"{handoff_at:%H:%M}",
            first_handoff=first_handoff.isoformat(),
        )
        return rotation

    async def _write_rotation(
        self, layer: Layer, names: list[str], shift_days: int, handoff_at: time, first: date
    ) -> None:
        async with self._sessions.begin() as session:
            ids = await _ids_of(session, names)
            await session.execute(
                delete(OnCallRotationMember).where(OnCallRotationMember.layer == layer.value)
            )
            await session.merge(
                OnCallRotation(
                    layer=layer.value,
                    shift_days=shift_days,
                    handoff_at=handoff_at,
                    first_handoff=first,
                    updated_at=self._clock.now(),
                )
            )
            await session.flush()
            session.add_all(
                OnCallRotationMember(layer=layer.value, position=position, person_id=ids[name])
                for position, name in enumerate(names)
            )

    async def clear_rotation(self, layer: Layer) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(OnCallRotationMember).where(OnCallRotationMember.layer == layer.value)
            )
            cleared = await session.execute(
                delete(OnCallRotation).where(OnCallRotation.layer == layer.value)
            )
            if not getattr(cleared, "rowcount", 0):
                raise NotOnRoster(f"no {layer.value} rotation is set")
        log.info("oncall.rotation_cleared", layer=layer.value)

    async def add_override(
        self, replaces: str, by: str, start: datetime, end: datetime
    ) -> PlannedOverride:
        try:
            override = Override(replaces, by, start, end)
        except RosterError as error:
            raise OnCallError(str(error)) from None
        with _concurrent_change():
            row = await self._write_override(replaces, by, start, end)
        log.info(
            "oncall.override_added",
            override=row.id,
            replaces=replaces,
            by=by,
            start=start.isoformat(),
            end=end.isoformat(),
        )
        return PlannedOverride(row.id, override)

    async def _write_override(
        self, replaces: str, by: str, start: datetime, end: datetime
    ) -> OnCallOverride:
        async with self._sessions.begin() as session:
            ids = await _ids_of(session, [replaces, by])
            row = OnCallOverride(
                replaces_id=ids[replaces],
                by_id=ids[by],
                starts_at=start,
                ends_at=end,
                created_at=self._clock.now(),
            )
            session.add(row)
            await session.flush()
        return row

    async def remove_override(self, override_id: int) -> None:
        async with self._sessions.begin() as session:
            removed = await session.execute(
                delete(OnCallOverride).where(OnCallOverride.id == override_id)
            )
            if not getattr(removed, "rowcount", 0):
                raise NotOnRoster(f"no override {override_id}")
        log.info("oncall.override_removed", override=override_id)

    async def issue_feed(self, person_id: int) -> tuple[Person, str]:
        """A new feed token for a person, in clear, once; the previous one stops working."""
        token = secrets.token_urlsafe(FEED_TOKEN_BYTES)
        async with self._sessions.begin() as session:
            row = await _person_row(session, person_id)
            row.feed_token_hash = feed_digest(token)
        log.info("oncall.feed_issued", person=row.name)
        return _person(row), token

    async def revoke_feed(self, person_id: int) -> Person:
        async with self._sessions.begin() as session:
            row = await _person_row(session, person_id)
            if row.feed_token_hash is None:
                raise NotOnRoster(f"{row.name} has no feed")
            row.feed_token_hash = None
        log.info("oncall.feed_revoked", person=row.name)
        return _person(row)

    async def feed_owner(self, token: str) -> str | None:
        """The name of the person whose feed `token` opens, None for any other token."""
        async with self._sessions() as session:
            name: str | None = await session.scalar(
                select(OnCallPerson.name).where(OnCallPerson.feed_token_hash == feed_digest(token))
            )
        return name

    async def person_id(self, name: str) -> int:
        async with self._sessions() as session:
            return (await _ids_of(session, [name]))[name]

    async def _rotations(
        self, session: AsyncSession, names: dict[int, str]
    ) -> dict[Layer, Rotation]:
        members = (
            await session.execute(
                select(OnCallRotationMember.layer, OnCallRotationMember.person_id).order_by(
                    OnCallRotationMember.layer, OnCallRotationMember.position
                )
            )
        ).all()
        turns: dict[str, list[str]] = {}
        for layer, person_id in members:
            turns.setdefault(layer, []).append(names[person_id])
        rows = (await session.scalars(select(OnCallRotation))).all()
        return {
            Layer(row.layer): Rotation(
                tuple(turns.get(row.layer, ())), row.shift_days, row.handoff_at, row.first_handoff
            )
            for row in rows
            if row.layer in turns
        }


@contextmanager
def _concurrent_change() -> Iterator[None]:
    # Another admin changed the same rotation, or removed a person named here, between
    # our reads and our writes (PostgreSQL; SQLite writes one at a time).
    try:
        yield
    except IntegrityError:
        raise RosterConflict("the roster changed meanwhile: look again and retry") from None


def feed_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _cleaned(value: str, what: str, limit: int) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise OnCallError(f"the {what} is empty")
    if len(cleaned) > limit:
        raise OnCallError(f"the {what} is longer than {limit} characters")
    return cleaned


def _rotation(names: tuple[str, ...], shift_days: int, at: time, first: date) -> Rotation:
    try:
        return Rotation(names, shift_days, at, first)
    except RosterError as error:
        raise OnCallError(str(error)) from None


async def _ids_of(session: AsyncSession, names: list[str]) -> dict[str, int]:
    rows = (
        await session.execute(
            select(OnCallPerson.name, OnCallPerson.id).where(OnCallPerson.name.in_(set(names)))
        )
    ).all()
    ids = {name: person_id for name, person_id in rows}
    unknown = [name for name in dict.fromkeys(names) if name not in ids]
    if unknown:
        raise NotOnRoster(f"not on the roster: {', '.join(unknown)} (add them first)")
    return ids


async def _person_row(session: AsyncSession, person_id: int) -> OnCallPerson:
    row = await session.get(OnCallPerson, person_id)
    if row is None:
        raise NotOnRoster(f"no person {person_id} on the roster")
    return row


def _person(row: OnCallPerson) -> Person:
    return Person(row.id, row.name, row.contact, row.feed_token_hash is not None)


def _override(row: OnCallOverride, names: dict[int, str]) -> Override:
    return Override(names[row.replaces_id], names[row.by_id], row.starts_at, row.ends_at)
