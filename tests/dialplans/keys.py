"""What callers key in the IVR tests: every pass, every PIN length callrouter accepts and a
longer one, with and without "#", and as a beneficiary recognised by caller id."""

from __future__ import annotations

from dataclasses import dataclass

from callrouter.identity.codes import PIN_MAX_LENGTH, PIN_MIN_LENGTH, check_pin
from callrouter.identity.models import ACCOUNT_NUMBER_LENGTH
from callrouter.routing.decision import RoutingPolicy

PASS_DIGITS = sorted(RoutingPolicy().pass_digits)
PIN_LENGTHS = range(PIN_MIN_LENGTH, PIN_MAX_LENGTH + 1)
ACCOUNT = "12345678"
# Longer than callrouter accepts: read whole all the same (callrouter refuses them), so that
# no key is left to end or fill the next prompt.
TOO_LONG_ACCOUNT = "9" * (ACCOUNT_NUMBER_LENGTH + 5)
TOO_LONG_PIN = "4" * (PIN_MAX_LENGTH + 3)


def pin_of(length: int) -> str:
    return check_pin("".join(str((7 * i + 3) % 10) for i in range(length)))


@dataclass(frozen=True)
class Keyed:
    """One caller: what they key at each prompt, and what the HotlineCall must say."""

    name: str
    entries: tuple[str, ...]
    account: str
    pin: str
    pass_digit: str
    #: entries that end after the digit timeout rather than on "#" or their last key
    timeouts: int


def every_way_to_key() -> list[Keyed]:
    cases = []
    for pass_digit in PASS_DIGITS:
        for length in PIN_LENGTHS:
            pin = pin_of(length)
            for end, how in (("#", "hash"), ("", "timeout")):
                entries = (ACCOUNT + end, pin + end, pass_digit)
                timeouts = 0 if end else 2
                name = f"pin{length}-{how}-pass{pass_digit}"
                cases.append(Keyed(name, entries, ACCOUNT, pin, pass_digit, timeouts))
        for end, how in (("#", "hash"), ("", "timeout")):
            entries = (TOO_LONG_ACCOUNT + end, TOO_LONG_PIN + end, pass_digit)
            name = f"too-long-{how}-pass{pass_digit}"
            timeouts = 0 if end else 2
            cases.append(Keyed(name, entries, TOO_LONG_ACCOUNT, TOO_LONG_PIN, pass_digit, timeouts))
        # "#" alone (as the prompt says), or nothing, at the account prompt: no PIN asked
        cases.append(
            Keyed(f"beneficiary-hash-pass{pass_digit}", ("#", pass_digit), "", "", pass_digit, 0)
        )
        cases.append(
            Keyed(f"beneficiary-silent-pass{pass_digit}", ("", pass_digit), "", "", pass_digit, 1)
        )
    return cases
