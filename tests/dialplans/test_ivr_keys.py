"""The IVR walked with DTMF exactly as a caller keys it: each entry keyed when a prompt asks
for it, "#" after the account number and the PIN or not, every pass, every PIN length the
router accepts and longer ones, and as a beneficiary recognised by caller id (issue 7,
items 1-3)."""

from __future__ import annotations

import pytest

from callrouter.identity.codes import PIN_MAX_LENGTH

from .dialplan_model import Caller, Dialplan, Step, user_event, walk
from .keys import ACCOUNT, Keyed, every_way_to_key, pin_of


def announced(steps: list[Step]) -> tuple[dict[str, str], float]:
    """Headers of the HotlineCall and how long the caller had waited in silence before it."""
    step = steps[-1]
    name, headers, _ = user_event(step)
    assert name == "HotlineCall"
    return headers, step.at


def call(dialplan: Dialplan, *entries: str) -> tuple[dict[str, str], float, str]:
    caller = Caller(list(entries))
    steps = walk(dialplan, "from-trunk", "0800100200", until="UserEvent", caller=caller)
    headers, silence = announced(steps)
    return headers, silence, caller.unread


@pytest.mark.parametrize("ends", ["#", ""])
def test_a_second_attempt_reads_what_the_caller_keys_again_and_keeps_the_pass(
    dialplan: Dialplan, ends: str
) -> None:
    pin = pin_of(PIN_MAX_LENGTH)
    caller = Caller([ACCOUNT + ends, pin + ends])
    held = {"HOTLINE_ATTEMPT": "1", "HOTLINE_PASS": "3", "HOTLINE_PIN": "999999"}

    steps = walk(dialplan, "hotline-pin-retry", "s", held, until="UserEvent", caller=caller)

    headers, _ = announced(steps)
    assert (headers["Account"], headers["Pin"], headers["Pass"]) == (ACCOUNT, pin, "3")
    assert headers["Attempt"] == "2"
    assert caller.unread == ""


def test_a_beneficiary_on_a_second_attempt_sends_no_pin_from_the_first(
    dialplan: Dialplan,
) -> None:
    caller = Caller(["#"])
    held = {"HOTLINE_ATTEMPT": "1", "HOTLINE_PASS": "3", "HOTLINE_PIN": "999999"}

    steps = walk(dialplan, "hotline-pin-retry", "s", held, until="UserEvent", caller=caller)

    headers, _ = announced(steps)
    assert (headers["Account"], headers["Pin"], headers["Pass"]) == ("", "", "3")
    assert caller.unread == ""


def test_keys_that_are_not_digits_never_reach_the_router(dialplan: Dialplan) -> None:
    headers, _, unread = call(dialplan, "12*34#", "00*42#", "*")

    assert (headers["Account"], headers["Pin"], headers["Pass"]) == ("1234", "0042", "")
    assert unread == ""


@pytest.mark.parametrize("keyed", every_way_to_key(), ids=lambda keyed: keyed.name)
def test_every_way_to_key_announces_what_was_keyed(dialplan: Dialplan, keyed: Keyed) -> None:
    headers, silence, unread = call(dialplan, *keyed.entries)

    expected = (keyed.account, keyed.pin, keyed.pass_digit)
    assert (headers["Account"], headers["Pin"], headers["Pass"]) == expected
    assert unread == "", "keys that no prompt read"
    # "#" ends an entry at once, the pass is one key: only entries without "#" wait
    assert silence == keyed.timeouts * int(dialplan.globals["HOTLINE_DIGIT_TIMEOUT"])
