"""Bodies and answers of the experts' staff routes (declared once: checks and OpenAPI)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from callrouter.experts.models import (
    ABSENCE_REASON_MAX_LENGTH,
    EXPERT_NAME_MAX_LENGTH,
    INTERFACE_MAX_LENGTH,
    WINDOW_NAME_MAX_LENGTH,
)
from callrouter.experts.presence import ExpertPresence
from callrouter.http.fields import Id, Instant, Text

DomainKey = Annotated[
    str,
    Field(pattern=r"^[a-z][a-z0-9-]{0,31}$", description="A configured domain's key, e.g. knx."),
]
Interface = Annotated[
    str,
    Field(
        max_length=INTERFACE_MAX_LENGTH,
        pattern=r"^[A-Za-z][A-Za-z0-9]*/[A-Za-z0-9_.@+-]+$",
        description="The PBX dial string of the expert's phone, e.g. PJSIP/expert7.",
    ),
]

WindowName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$", max_length=WINDOW_NAME_MAX_LENGTH)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewExpert(Request):
    name: Annotated[str, Text(EXPERT_NAME_MAX_LENGTH)]
    interface: Interface
    domains: list[DomainKey] = Field(min_length=1, max_length=32)
    hours: WindowName | None = Field(
        default=None, description="Working hours' calendar window (default: [experts] hours)."
    )


class ExpertPath(Request):
    expert_id: Id


class NewAbsence(Request):
    start: Instant
    end: Instant
    reason: Annotated[str, Text(ABSENCE_REASON_MAX_LENGTH, min_length=0)] | None = None


class Absence(BaseModel):
    id: int
    start: Instant
    end: Instant
    reason: str


class Domain(BaseModel):
    key: str
    label: str


class Expert(BaseModel):
    """An expert, with their live state read from the PBX."""

    id: int
    name: str
    interface: str
    domains: list[str]
    hours: str = Field(description="Calendar window of the working hours.")
    presence: ExpertPresence
    absences: list[Absence] = Field(description="Absences not over yet.")


class ExpertList(BaseModel):
    """Every active expert, and the domains they may cover."""

    items: list[Expert]
    domains: list[Domain]


class Removed(BaseModel):
    """Removed from the directory; their past work keeps naming them."""

    id: int
    name: str
