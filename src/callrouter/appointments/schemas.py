"""Bodies, queries and answers of the appointments' routes (declared once: checks and
OpenAPI)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from typing_extensions import TypedDict

from callrouter.accounts.schemas import (
    CALLER_ID_MAX_LENGTH,
    REASON_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
    AccountNumber,
    IdempotencyKey,
)
from callrouter.appointments.models import AppointmentState
from callrouter.experts.schemas import DomainKey
from callrouter.http.fields import Id, Instant, Text
from callrouter.ledger.prices import AssistanceLevel

PhoneNumber = Annotated[
    str,
    Field(
        max_length=CALLER_ID_MAX_LENGTH,
        pattern=r"^\+?[0-9][0-9 ().-]*$",
        description="The number the expert calls, e.g. 06 12 34 56 78; stored normalised.",
    ),
]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AvailabilityQuery(Request):
    domain: DomainKey
    from_: Instant = Field(validation_alias="from", description="From this instant, with offset.")
    to: Instant = Field(description="Slots starting before this instant.")


class NewAppointment(Request):
    account_number: AccountNumber
    domain: DomainKey
    level: AssistanceLevel
    third_party: bool = False
    start: Instant = Field(description="The slot's start, on a quarter hour.")
    number_to_call: PhoneNumber
    summary: Annotated[str, Text(SUMMARY_MAX_LENGTH, min_length=0, multiline=True)] | None = None
    idempotency_key: IdempotencyKey


class AppointmentPath(Request):
    appointment_id: Id


class Cancel(Request):
    reason: Annotated[str, Text(REASON_MAX_LENGTH, min_length=0)] | None = None


class Reschedule(Request):
    start: Instant = Field(description="The new slot's start, on a quarter hour.")


class AppointmentQuery(Request):
    day: dt.date | None = Field(default=None, description="Slots of this day (calendar's zone).")
    domain: DomainKey | None = None
    expert_id: Id | None = Field(
        default=None,
        description="Appointments whose `expert` is this one: who took the call at the slot "
        "once an expert answered it, else the reserved one (not `reserved_expert` alone).",
    )
    state: AppointmentState | None = None
    limit: int = Field(default=200, ge=1, le=500, description="At most this many, by start.")


class Slot(BaseModel):
    start: Instant
    end: Instant
    capacity: int = Field(ge=0, description="Experts of the domain free for the whole slot.")
    experts: list[str] = Field(description="Their names.")


class Availability(BaseModel):
    """The bookable slots of a domain, by start."""

    domain: str
    slot_minutes: int
    items: list[Slot]


# The availability answer as the route writes it (http.endpoint.Plain): the same fields as
# Slot and Availability, which give the OpenAPI document, as plain dicts. Our own code
# computed every value, so nothing is checked again, and no model is built per slot.
class SlotDocument(TypedDict):
    start: Instant
    end: Instant
    capacity: int
    experts: list[str]


class AvailabilityDocument(TypedDict):
    domain: str
    slot_minutes: int
    items: list[SlotDocument]


AVAILABILITY_WRITER = TypeAdapter(AvailabilityDocument)


class ExpertRef(BaseModel):
    id: int
    name: str


class ExpertOnCall(BaseModel):
    id: int | None = Field(
        description="Null when the expert who answered matches no directory row (removed "
        "before the call was placed)."
    )
    name: str


class HolderAppointment(BaseModel):
    id: int
    incident_id: int
    domain: str
    start: Instant
    end: Instant
    number_to_call: str
    summary: str
    level: AssistanceLevel
    third_party: bool
    state: AppointmentState
    cancelled_at: Instant | None


class Appointment(HolderAppointment):
    """An appointment, its experts and who booked it."""

    account_number: str
    expert: ExpertOnCall = Field(
        description="Who took (or is taking) the call at the slot once an expert answered "
        "it, who may not be the reserved one; until then the reserved expert. `rdv list` and "
        "the console name the same expert."
    )
    reserved_expert: ExpertRef = Field(description="The expert reserved for the slot.")
    booked_by: str
    booked_at: Instant
    cancel_refunded: bool | None = Field(description="Whether its cancellation refunded it.")


class AppointmentList(BaseModel):
    items: list[Appointment]


class HolderAppointmentList(BaseModel):
    """The account's appointments, by start."""

    items: list[HolderAppointment]


class Debit(BaseModel):
    points: int = Field(ge=0)
    balance: int = Field(ge=0)


class Booked(BaseModel):
    """Booked: the incident opened and debited, an expert reserved."""

    appointment: Appointment
    debit: Debit
    replayed: bool

    def http_status(self, declared: int) -> int:
        return 200 if self.replayed else declared


class Cancelled(BaseModel):
    appointment: Appointment
    refunded_points: int = Field(ge=0)
    replayed: bool
