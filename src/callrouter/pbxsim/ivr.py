"""The hotline IVR's DTMF entry, as Asterisk's Read() takes it. Pure: keyed digits and
times in, what each Read() got and when the last one ended out.

A Read() plays its prompt (the first digit cuts it), then collects digits until `#` (kept
out of the value), until it has `max_digits` (the next key then belongs to the next
Read(): a `#` there ends it empty), or until `timeout` seconds pass without a digit.
Digits that arrive while a Playback() plays are lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: SendDTMF's default tone length, seconds.
TONE = 0.1


@dataclass(frozen=True)
class Keypress:
    digit: str
    #: When the tone starts (DTMFBegin) and ends (DTMFEnd: Read() takes the digit then).
    begins: float
    ends: float


@dataclass(frozen=True)
class ReadStep:
    variable: str
    max_digits: int
    prompt_time: float


@dataclass(frozen=True)
class IvrResult:
    values: dict[str, str]
    ends_at: float


def keying(digits: str, start: float, gap: float) -> list[Keypress]:
    """SendDTMF(digits, gap): each digit sounds `TONE`, then `gap` of silence."""
    keys = []
    at = start
    for digit in digits:
        keys.append(Keypress(digit, at, at + TONE))
        at += TONE + gap
    return keys


def read_entries(
    keys: Sequence[Keypress], start: float, steps: Sequence[ReadStep], timeout: float
) -> IvrResult:
    """Run `steps` one after the other from `start` (when the first prompt begins)."""
    pending = [key for key in keys if key.ends >= start]
    values: dict[str, str] = {}
    now = start
    for step in steps:
        digits = ""
        deadline = now + step.prompt_time + timeout
        while True:
            if not pending or pending[0].ends > deadline:
                now = deadline
                break
            key = pending.pop(0)
            now = key.ends
            if key.digit == "#":
                break
            digits += key.digit
            if len(digits) >= step.max_digits:
                break
            deadline = now + timeout
        values[step.variable] = digits
    return IvrResult(values, now)


def only_digits(text: str) -> str:
    """The dialplan's ${FILTER(0-9,...)}."""
    return "".join(c for c in text if c.isdigit())
