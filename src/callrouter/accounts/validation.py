"""Request bodies and queries checked field by field before anything touches the database.

Every failure is an InvalidInput (400) naming the field and saying what was expected.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import TypeVar

from aiohttp import web

from callrouter.http.errors import ApiError, InvalidInput

E = TypeVar("E", bound=enum.Enum)

MAX_BODY_BYTES = 16 * 1024


async def read_body(request: web.Request, fields: Collection[str]) -> Body:
    """The request's JSON object; any key outside `fields` is refused."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise InvalidInput(None, f"the request body is larger than {MAX_BODY_BYTES} bytes")
    raw = await request.content.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidInput(None, f"the request body is larger than {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidInput(None, "the request body must be a JSON object") from None
    if not isinstance(data, dict):
        raise InvalidInput(None, "the request body must be a JSON object")
    reject_unknown(data, fields)
    return Body(data)


def reject_unknown(given: Collection[str], known: Collection[str]) -> None:
    for name in given:
        if name not in known:
            expected = ", ".join(known) if known else "none"
            raise InvalidInput(name, f"unknown field {name!r} (expected: {expected})")


class Body:
    """A JSON object read one typed field at a time."""

    def __init__(self, data: Mapping[str, object]) -> None:
        self._data = data

    def text(self, name: str, *, max_length: int, min_length: int = 1) -> str:
        value = self._required(name)
        if not isinstance(value, str):
            raise InvalidInput(name, f"{name} must be a string")
        return check_length(name, value.strip(), min_length=min_length, max_length=max_length)

    def has(self, name: str) -> bool:
        return self._data.get(name) is not None

    def optional_text(self, name: str, *, max_length: int) -> str | None:
        """The text, or None when the field is absent, null or blank."""
        if not self.has(name):
            return None
        return self.text(name, max_length=max_length, min_length=0) or None

    def boolean(self, name: str, *, default: bool) -> bool:
        if name not in self._data:
            return default
        value = self._data[name]
        if not isinstance(value, bool):
            raise InvalidInput(name, f"{name} must be true or false")
        return value

    def choice(self, name: str, kind: type[E]) -> E:
        value = self._required(name)
        return parse_choice(name, value, kind)

    def _required(self, name: str) -> object:
        if name not in self._data or self._data[name] is None:
            raise InvalidInput(name, f"{name} is required")
        return self._data[name]


def check_length(name: str, value: str, *, min_length: int = 1, max_length: int) -> str:
    if len(value) < min_length:
        if min_length == 1:
            raise InvalidInput(name, f"{name} must not be empty")
        raise InvalidInput(name, f"{name} must have at least {min_length} characters")
    if len(value) > max_length:
        raise InvalidInput(name, f"{name} must have at most {max_length} characters")
    return value


def digits(name: str, value: str, *, length: int) -> str:
    if len(value) != length or not (value.isascii() and value.isdigit()):
        raise InvalidInput(name, f"{name} must be {length} digits")
    return value


def parse_choice(name: str, value: object, kind: type[E]) -> E:
    allowed = [member.value for member in kind]
    if not isinstance(value, str) or value not in allowed:
        raise InvalidInput(name, f"{name} must be one of: {', '.join(map(str, allowed))}")
    return kind(value)


def parse_instant(name: str, value: str) -> datetime:
    """An ISO 8601 date-time with its offset ("2025-03-01T00:00:00+01:00" or "...Z")."""
    example = "e.g. 2025-03-01T00:00:00+01:00 or 2025-03-01T00:00:00Z"
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(name, f"{name} must be an ISO 8601 date-time, {example}") from None
    if instant.tzinfo is None:
        raise InvalidInput(name, f"{name} needs a time zone offset, {example}")
    return instant


def parse_bounded_int(name: str, value: str, *, minimum: int, maximum: int) -> int:
    if not (value.isascii() and value.isdigit()) or not minimum <= int(value) <= maximum:
        raise InvalidInput(name, f"{name} must be a whole number from {minimum} to {maximum}")
    return int(value)


def path_id(request: web.Request, name: str, what: str) -> int:
    """An id in the URL path; 404 rather than 400, as for any URL that names nothing."""
    value = request.match_info[name]
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise ApiError(404, "not-found", f"no {what} numbered {value!r}")
    return int(value)


def encode_cursor(before_id: int) -> str:
    """An opaque page cursor: clients pass it back, they do not build it."""
    return base64.urlsafe_b64encode(f"before:{before_id}".encode()).decode().rstrip("=")


def parse_cursor(value: str) -> int:
    message = "cursor must be a next_cursor value returned by the previous page"
    if len(value) > 64:
        raise InvalidInput("cursor", message)
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise InvalidInput("cursor", message) from None
    prefix, _, number = text.partition(":")
    if prefix != "before" or not (number.isascii() and number.isdigit()) or len(number) > 18:
        raise InvalidInput("cursor", message)
    return int(number)
