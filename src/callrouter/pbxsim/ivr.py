"""The hotline IVR's DTMF entry, as Asterisk's Read() takes it and as [hotline-identify] of
dialplans/extensions.conf chains it. Pure: keyed digits and times in, what the dialplan
read and when it was done out.

A Read() plays its prompt (the first digit cuts it), then collects digits until `#` (kept
out of the value), until it has `max_digits` (the next key then belongs to the next
Read()), or until `timeout` seconds pass without a digit. Digits that arrive while a
Playback() plays are lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: SendDTMF's default tone length, seconds.
TONE = 0.1
#: SendDTMF's pauses: `w` half a second, `W` one second.
PAUSES = {"w": 0.5, "W": 1.0}
#: Read() with no digit limit stops at 255 digits.
READ_MAX_DIGITS = 255


@dataclass(frozen=True)
class Keypress:
    digit: str
    #: When the tone starts (DTMFBegin) and ends (DTMFEnd: Read() takes the digit then).
    begins: float
    ends: float


@dataclass(frozen=True)
class Entry:
    keyed: str
    ends_at: float
    unread: tuple[Keypress, ...]


@dataclass(frozen=True)
class Identification:
    """What [hotline-identify] (and the pass Read of [hotline-answer]) leave in HOTLINE_*."""

    account: str
    pin: str
    pass_digit: str
    ends_at: float


def keying(digits: str, start: float, gap: float) -> list[Keypress]:
    """SendDTMF(digits, gap): each digit sounds `TONE`, then `gap` of silence; `w`/`W`
    are pauses."""
    keys = []
    at = start
    for digit in digits:
        if digit in PAUSES:
            at += PAUSES[digit]
            continue
        keys.append(Keypress(digit, at, at + TONE))
        at += TONE + gap
    return keys


def read(
    keys: Sequence[Keypress], start: float, prompt_time: float, timeout: float, max_digits: int
) -> Entry:
    """One Read() from `start`; keys that ended before it were lost."""
    pending = [key for key in keys if key.ends >= start]
    keyed = ""
    deadline = start + prompt_time + timeout
    now = start
    while True:
        if not pending or pending[0].ends > deadline:
            now = deadline
            break
        key = pending.pop(0)
        now = key.ends
        if key.digit == "#":
            break
        keyed += key.digit
        if len(keyed) >= max_digits:
            break
        deadline = now + timeout
    return Entry(keyed, now, tuple(pending))


def only_digits(text: str) -> str:
    """The dialplan's ${FILTER(0-9,...)}."""
    return "".join(c for c in text if c.isdigit())


def identify(
    keys: Sequence[Keypress],
    start: float,
    prompts: Mapping[str, float],
    timeout: float,
    *,
    with_pass: bool,
) -> Identification:
    """Account, then the PIN only if an account was keyed (a beneficiary presses `#` alone
    and is asked no PIN), then (first attempt only) the one-key pass choice."""
    account = read(
        keys, start, prompts.get("callrouter/numero-compte", 0.0), timeout, READ_MAX_DIGITS
    )
    entry, pin = account, ""
    if only_digits(account.keyed):
        entry = read(
            entry.unread,
            entry.ends_at,
            prompts.get("callrouter/code-pin", 0.0),
            timeout,
            READ_MAX_DIGITS,
        )
        pin = only_digits(entry.keyed)
    pass_digit = ""
    if with_pass:
        entry = read(
            entry.unread, entry.ends_at, prompts.get("callrouter/choix-pass", 0.0), timeout, 1
        )
        pass_digit = only_digits(entry.keyed)
    return Identification(only_digits(account.keyed), pin, pass_digit, entry.ends_at)
