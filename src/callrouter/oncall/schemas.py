"""The JSON shapes of the on-call routes. `OnCallNow` is the live view's on-call part: the
team now and next, the live emergencies with their escalation, the unanswered ones."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from callrouter.http.access import Visibility, mask_caller_id, mask_numbers_in
from callrouter.http.fields import Id, Instant, Text, phrase
from callrouter.oncall.escalation_store import StoredEscalation
from callrouter.oncall.models import CONTACT_MAX_LENGTH, PERSON_NAME_MAX_LENGTH
from callrouter.oncall.roster import Layer, OnCallTeam, Shift, Technician
from callrouter.oncall.service import Person as StoredPerson
from callrouter.oncall.tracking import Escalation, EscalationState

_HH_MM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


def _hh_mm(value: str) -> str:
    if not _HH_MM.fullmatch(value):
        raise phrase("must be a time HH:MM, e.g. 08:00")
    return value


Name = Annotated[str, Text(PERSON_NAME_MAX_LENGTH)]
HandoffTime = Annotated[
    str, AfterValidator(_hh_mm), Field(json_schema_extra={"pattern": _HH_MM.pattern})
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OnCallPerson(BaseModel):
    name: str
    contact: str = Field(description="PBX interface or number; numbers masked unless admin.")


class Team(BaseModel):
    primary: OnCallPerson | None
    secondary: OnCallPerson | None
    manager: OnCallPerson | None


class NextTeam(BaseModel):
    at: Instant
    team: Team


class EscalationOut(BaseModel):
    """An emergency the PBX holds now, and how far its escalation went."""

    caller_id: str = Field(description="Masked unless admin.")
    started_at: Instant
    state: EscalationState
    layer: Layer = Field(description="The widest layer rung so far in this pass.")
    pass_number: int = Field(description="Which pass of the escalation chain (from 1).")
    waited_seconds: float = Field(description="Since the caller was first queued.")
    pass_waited_seconds: float = Field(description="Since this pass began.")
    technician: str | None = Field(description="Who confirmed or took the call.")


class UnansweredOut(BaseModel):
    """An emergency nobody confirmed: the caller is owed a call back."""

    caller_id: str = Field(description="Masked unless admin.")
    started_at: Instant
    at: Instant = Field(description="When the caller was offered to leave a message.")
    pass_number: int


class OnCallNow(BaseModel):
    """Who is on call now and until when, the next team to come on call, the live
    emergencies with their escalation, and the last day's unanswered ones."""

    at: Instant
    window_open: bool = Field(description="Whether the on-call window is open now.")
    roster_set: bool = Field(description="Whether any rotation is set.")
    now: Team
    until: Instant | None = Field(
        description="The next change of the team on call (a hand-off, an override, the "
        "window closing or opening); null when nothing changes within 35 days."
    )
    next: NextTeam | None = Field(
        description="The next team to come on call (never the daytime's nobody); null "
        "when none within 35 days."
    )
    escalations: list[EscalationOut] = Field(description="Emergencies the PBX holds now.")
    unanswered: list[UnansweredOut] = Field(
        description="Emergencies nobody confirmed in the last 24 hours, newest first."
    )


class ScheduleQuery(Strict):
    days: int = Field(default=14, ge=1, le=92, description="How many days from now.")


class ScheduledShift(BaseModel):
    start: Instant
    end: Instant
    team: Team


class Schedule(BaseModel):
    """The on-call shifts ahead, the day (no one on call) left out."""

    start: Instant
    end: Instant
    shifts: list[ScheduledShift]


class PersonOut(BaseModel):
    """A person on the roster."""

    id: int
    name: str
    contact: str
    has_feed: bool


class RotationOut(BaseModel):
    """A layer's rotation: its people in turn order."""

    layer: Layer
    people: list[str]
    shift_days: int
    handoff_at: str = Field(description="Local wall-clock time in the calendar's zone.")
    first_handoff: date


class OverrideOut(BaseModel):
    """An override."""

    id: int
    replaces: str
    by: str
    starts_at: Instant
    ends_at: Instant


class RosterOut(BaseModel):
    """The roster: people, rotations, overrides not over yet."""

    people: list[PersonOut]
    rotations: list[RotationOut]
    overrides: list[OverrideOut]


class NewPerson(Strict):
    name: Name
    contact: Annotated[str, Text(CONTACT_MAX_LENGTH)] = Field(
        description="A PBX interface (PJSIP/alice) or a phone number."
    )


class PersonPath(Strict):
    person_id: Id


class LayerPath(Strict):
    layer: Layer


class OverridePath(Strict):
    override_id: Id


class NewRotation(Strict):
    people: list[Name] = Field(min_length=1, max_length=100, description="In turn order.")
    shift_days: int = Field(ge=1, le=28, description="7: weekly; 1: daily.")
    handoff_at: HandoffTime
    first_handoff: date = Field(description="A day with a hand-off (to the first person).")


class NewOverride(Strict):
    replaces: Name
    by: Name
    starts_at: Instant
    ends_at: Instant


class Done(BaseModel):
    """Done."""

    removed: bool


class FeedIssued(BaseModel):
    """The feed's URL, shown once: the previous one stops working."""

    person: PersonOut
    url: str


class FeedPath(Strict):
    token: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{43}$")]


class Feed(BaseModel):
    """The person's on-call duties as an iCalendar feed."""

    media_type: ClassVar[str] = "text/calendar"
    text: str

    def rendered(self) -> bytes:
        return self.text.encode()


def person(technician: Technician | None, seen: Visibility) -> OnCallPerson | None:
    if technician is None:
        return None
    contact = technician.contact if seen.full_caller_ids else mask_numbers_in(technician.contact)
    return OnCallPerson(name=technician.name, contact=contact)


def team(on_call: OnCallTeam, seen: Visibility) -> Team:
    return Team(
        primary=person(on_call.primary, seen),
        secondary=person(on_call.secondary, seen),
        manager=person(on_call.manager, seen),
    )


def scheduled(shift: Shift, seen: Visibility) -> ScheduledShift:
    return ScheduledShift(start=shift.start, end=shift.end, team=team(shift.team, seen))


def stored_person(stored: StoredPerson, seen: Visibility) -> PersonOut:
    contact = stored.contact if seen.full_caller_ids else mask_numbers_in(stored.contact)
    return PersonOut(id=stored.id, name=stored.name, contact=contact, has_feed=stored.has_feed)


def handoff_text(at: time) -> str:
    return f"{at:%H:%M}"


def _caller(caller_id: str, seen: Visibility) -> str:
    return caller_id if seen.full_caller_ids else mask_caller_id(caller_id)


def escalation(live: Escalation, at: datetime, seen: Visibility) -> EscalationOut:
    technician = live.technician
    if technician is not None and not seen.full_caller_ids:
        technician = mask_numbers_in(technician)
    return EscalationOut(
        caller_id=_caller(live.caller_id, seen),
        started_at=live.started_at,
        state=live.state,
        layer=live.layer,
        pass_number=live.pass_number,
        waited_seconds=round(live.waited(at), 1),
        pass_waited_seconds=round(max((at - live.pass_started_at).total_seconds(), 0.0), 1),
        technician=technician,
    )


def unanswered(stored: StoredEscalation, seen: Visibility) -> UnansweredOut:
    return UnansweredOut(
        caller_id=_caller(stored.caller_id, seen),
        started_at=stored.started_at,
        at=stored.updated_at,
        pass_number=stored.pass_number,
    )
