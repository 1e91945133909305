"""Every body and query of the account API, declared once: these models check what comes
in and give the OpenAPI document its schemas (callrouter.http.openapi)."""

from __future__ import annotations

import base64
import binascii
import enum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from callrouter.callbacks.models import DOMAIN_LENGTH
from callrouter.callbacks.schemas import CallbackRef
from callrouter.http.fields import MAX_ID, Digits, Id, Instant, Text, phrase
from callrouter.identity.codes import WEB_CODE_MAX_LENGTH
from callrouter.identity.models import ACCOUNT_NUMBER_LENGTH
from callrouter.identity.service import NAME_MAX_LENGTH
from callrouter.ledger.prices import AssistanceLevel, Classification
from callrouter.ledger.service import IncidentEventKind, MovementKind
from callrouter.passes import Pass

CALLER_ID_MAX_LENGTH = 32
# A code is 28 symbols in 7 groups; room for spaces and dashes as typed off the card.
RECHARGE_CODE_MAX_LENGTH = 64
IDEMPOTENCY_KEY_MAX_LENGTH = 100
SUMMARY_MAX_LENGTH = 2000
REASON_MAX_LENGTH = 500
CALL_MAX_LENGTH = 64
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

AccountNumber = Annotated[str, Digits(ACCOUNT_NUMBER_LENGTH)]
IdempotencyKey = Annotated[
    str,
    Text(IDEMPOTENCY_KEY_MAX_LENGTH),
    Field(description="Sending the same key again returns the first result."),
]


class Request(BaseModel):
    """A request body or query: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


# Requests -------------------------------------------------------------------------------


class SignIn(Request):
    account_number: AccountNumber
    web_code: Annotated[str, Text(WEB_CODE_MAX_LENGTH)]


class NewBeneficiary(Request):
    name: Annotated[str, Text(NAME_MAX_LENGTH)]
    caller_id: Annotated[
        str,
        Text(CALLER_ID_MAX_LENGTH),
        Field(description="Phone number, e.g. +33 6 12 34 56 78; stored normalised."),
    ]


class Recharge(Request):
    code: Annotated[str, Text(RECHARGE_CODE_MAX_LENGTH), Field(description="As on the card.")]


class OpenIncident(Request):
    account_number: AccountNumber
    level: AssistanceLevel
    pass_: Pass = Field(validation_alias="pass")
    third_party: bool = False
    emergency: bool = False
    classification: Classification = Classification.EXPERT
    summary: Annotated[str, Text(SUMMARY_MAX_LENGTH, min_length=0, multiline=True)] | None = None
    call: Annotated[str, Text(CALL_MAX_LENGTH, min_length=0)] | None = Field(
        default=None, description="Call reference."
    )
    domain: Annotated[str, Text(DOMAIN_LENGTH)] | None = Field(
        default=None,
        description="Pass 4H: the domain of the expert who calls back (required for 4H).",
    )
    callback_number: Annotated[str, Text(CALLER_ID_MAX_LENGTH)] | None = Field(
        default=None,
        description="Pass 4H: the number to call back; by default the number of `call`.",
    )
    idempotency_key: IdempotencyKey


class Reclassification(enum.StrEnum):
    """What a coordinator may reclassify an incident as: the ledger prices only the move to
    non-attributable ("Assistance non imputable: Offert"), refunded in full, once."""

    NON_ATTRIBUTABLE = Classification.NON_ATTRIBUTABLE.value


class Reclassify(Request):
    classification: Reclassification
    reason: Annotated[str, Text(REASON_MAX_LENGTH, min_length=0)] | None = None
    idempotency_key: IdempotencyKey


def _cursor(value: object) -> object:
    """An opaque page cursor ("before:<id>" in base64url) to the id it stands for."""
    message = "must be a next_cursor value returned by the previous page"
    if not isinstance(value, str) or len(value) > 64:
        raise phrase(message)
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise phrase(message) from None
    prefix, _, number = text.partition(":")
    if prefix != "before" or not (number.isascii() and number.isdigit()) or int(number) > MAX_ID:
        raise phrase(message)
    return int(number)


def encode_cursor(before_id: int) -> str:
    """Clients pass the cursor back, they do not build it."""
    return base64.urlsafe_b64encode(f"before:{before_id}".encode()).decode().rstrip("=")


Cursor = Annotated[
    int,
    BeforeValidator(_cursor),
    WithJsonSchema(
        {"type": "string", "description": "`next_cursor` of the previous page."},
        mode="validation",
    ),
]
PageSize = Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE, description="Page size.")]


class PageQuery(Request):
    limit: PageSize = DEFAULT_PAGE_SIZE
    cursor: Cursor | None = None


class MovementQuery(PageQuery):
    kind: MovementKind | None = Field(default=None, description="Only this kind.")
    from_: Instant | None = Field(
        default=None,
        validation_alias="from",
        description="From this instant (inclusive), with offset.",
    )
    to: Instant | None = Field(default=None, description="Until this instant (exclusive).")


class IncidentPath(Request):
    incident_id: Id


class CallerIdPath(Request):
    caller_id: Annotated[
        str,
        Field(
            max_length=CALLER_ID_MAX_LENGTH,
            pattern=r"^\+?[0-9][0-9 ().-]*$",
            description="Phone number.",
        ),
    ]


class AccountPath(Request):
    number: AccountNumber


# Responses ------------------------------------------------------------------------------


class Token(BaseModel):
    """A bearer token, valid 8 hours."""

    token: str
    expires_at: Instant


class Account(BaseModel):
    """The account."""

    number: str
    holder: str
    balance: int = Field(ge=0, description="Points.")
    held: int = Field(
        ge=0,
        description="Points held for an emergency call under way: still the holder's, "
        "not spendable until the technician confirms (then debited) or the call ends "
        "unserved (then released).",
    )
    available: int = Field(ge=0, description="Points that can be spent now: balance - held.")


class Beneficiary(BaseModel):
    """The beneficiary."""

    name: str
    caller_id: str
    added_at: Instant
    removed_at: Instant | None
    confirmed_at: Instant | None = Field(
        description="When a call from the number, with the account's PIN, proved it; "
        "until then the number is not recognised."
    )


class BeneficiaryList(BaseModel):
    """The active beneficiaries."""

    items: list[Beneficiary]


class StaffAccount(Account):
    """The account, with who may call on it."""

    created_at: Instant
    beneficiaries: list[Beneficiary]


class Movement(BaseModel):
    id: int
    kind: MovementKind
    amount: int = Field(description="Signed points.")
    balance_after: int = Field(ge=0)
    at: Instant
    reason: str
    reference: str
    incident_id: int | None


class MovementPage(BaseModel):
    """One page of movements, newest first."""

    items: list[Movement]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page.")


class IncidentEntry(BaseModel):
    id: int
    level: AssistanceLevel
    pass_: Pass = Field(serialization_alias="pass")
    third_party: bool
    emergency: bool
    classification: Classification
    price: int | None = Field(description="Points of the price list; null when on quote.")
    debited: int = Field(description="Points debited at opening.")
    summary: str
    opened_at: Instant
    refunded_at: Instant | None


class IncidentPage(BaseModel):
    """One page of incidents, newest first."""

    items: list[IncidentEntry]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page.")


class IncidentEvent(BaseModel):
    kind: IncidentEventKind
    at: Instant
    detail: str
    call: str | None


class Incident(IncidentEntry):
    """The incident, with its history."""

    account_number: str
    opening_call: str | None
    history: list[IncidentEvent]


class Recharged(BaseModel):
    """The points credited."""

    pack: str = Field(description="Card reference, e.g. FSACSP50C.")
    points: int
    balance: int


class Debit(BaseModel):
    points: int = Field(ge=0)
    balance: int = Field(ge=0)


class OpenedIncident(BaseModel):
    """Opened and debited."""

    incident: Incident
    debit: Debit
    callback: CallbackRef | None = Field(description="Pass 4H: the callback it opened.")
    replayed: bool

    def http_status(self, declared: int) -> int:
        return 200 if self.replayed else declared


class RefundDone(BaseModel):
    points: int
    at: Instant


class Reclassified(BaseModel):
    """Reclassified and refunded."""

    incident: Incident
    refund: RefundDone
    replayed: bool
