"""Field types shared by the API's request and response models.

Each type carries its validation and its JSON schema together, so the OpenAPI document
and the checks on what comes in cannot drift apart. Errors raised here are
`PydanticCustomError`s whose message completes the field's name ("must be 8 digits"):
`callrouter.http.invalid` turns them into the API's 400.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Annotated

from annotated_types import GroupedMetadata
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    SerializationInfo,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from callrouter.textrules import UnsafeText, clean_text

#: The error type of every message written here: the text follows the field's name.
PHRASE = "phrase"
#: Largest id a path or cursor may carry: a 64-bit integer column.
MAX_ID = 2**63 - 1
#: Serialisation context key: the calendar's time zone, in which people read times.
TIMEZONE = "timezone"


def phrase(text: str) -> PydanticCustomError:
    return PydanticCustomError(PHRASE, text)


def _safe(multiline: bool) -> AfterValidator:
    def check(value: str) -> str:
        try:
            return clean_text(value, multiline=multiline)
        except UnsafeText as error:
            raise phrase(str(error)) from None

    return AfterValidator(check)


_REFUSED = r"\u007F-\u009F\u202A-\u202E\u2066-\u2069"
#: JSON Schema patterns of what textrules lets through, for the OpenAPI document.
ONE_LINE = rf"^[^\u0000-\u001F\u2028\u2029{_REFUSED}]*$"
MULTILINE = rf"^[^\u0000-\u0008\u000B-\u001F{_REFUSED}]*$"


@dataclass(frozen=True)
class Text(GroupedMetadata):
    """A person's text, trimmed, with control and bidi characters refused (textrules):
    `name: Annotated[str, Text(200)]`."""

    max_length: int
    min_length: int = 1
    multiline: bool = False

    def __iter__(self) -> Iterator[object]:
        yield StringConstraints(
            strip_whitespace=True, min_length=self.min_length, max_length=self.max_length
        )
        yield _safe(self.multiline)
        # The same rule told to clients (textrules has the messages; CR LF is also taken).
        yield Field(json_schema_extra={"pattern": MULTILINE if self.multiline else ONE_LINE})


@dataclass(frozen=True)
class Digits(GroupedMetadata):
    """Exactly `length` ASCII digits (an account number): `Annotated[str, Digits(8)]`."""

    length: int

    def __iter__(self) -> Iterator[object]:
        length = self.length

        def check(value: str) -> str:
            if len(value) != length or not (value.isascii() and value.isdigit()):
                raise phrase(f"must be {length} digits")
            return value

        yield AfterValidator(check)
        yield Field(json_schema_extra={"pattern": f"^[0-9]{{{length}}}$"})


_EXAMPLE = "e.g. 2025-03-01T00:00:00+01:00 or 2025-03-01T00:00:00Z"


def _instant(value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise phrase(f"must be an ISO 8601 date-time, {_EXAMPLE}") from None
    if instant.tzinfo is None:
        raise phrase(f"needs a time zone offset, {_EXAMPLE}")
    return instant


def _calendar_time(value: datetime, info: SerializationInfo) -> str:
    # Times are stored in UTC; people read them in the calendar's zone, offset included.
    context = info.context or {}
    zone: tzinfo = context.get(TIMEZONE, UTC)
    return _in_zone(value, zone)


@functools.lru_cache(maxsize=16384)
def _in_zone(value: datetime, zone: tzinfo) -> str:
    # An availability answer writes a thousand slot times, the same ones query after query;
    # converting and formatting costs ten times the lookup. Equal instants give equal text.
    return value.astimezone(zone).isoformat()


_DATE_TIME = {"type": "string", "format": "date-time"}

#: An instant: read as ISO 8601 with an offset; written in the calendar's time zone with
#: its offset ("2025-03-03T10:00:00+01:00").
Instant = Annotated[
    datetime,
    BeforeValidator(_instant),
    PlainSerializer(_calendar_time, return_type=str),
    WithJsonSchema(_DATE_TIME, mode="serialization"),
]

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
