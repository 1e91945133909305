"""The IVR walked with DTMF exactly as a caller keys it: each entry keyed when a prompt asks
for it, "#" after the account number and the PIN or not, every pass, every PIN length the
router accepts, and as a beneficiary recognised by caller id (issue 7, items 1-3)."""

from __future__ import annotations

import pytest

from callrouter.identity.codes import PIN_MAX_LENGTH, PIN_MIN_LENGTH, check_pin
from callrouter.identity.models import ACCOUNT_NUMBER_LENGTH
from callrouter.routing.decision import RoutingPolicy

from .dialplan_model import Caller, Dialplan, Step, user_event, walk

PASS_DIGITS = sorted(RoutingPolicy().pass_digits)
PIN_LENGTHS = range(PIN_MIN_LENGTH, PIN_MAX_LENGTH + 1)
ACCOUNT = "12345678"


def pin_of(length: int) -> str:
    return check_pin("".join(str((7 * i + 3) % 10) for i in range(length)))


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


def test_the_dialplan_reads_pins_up_to_the_length_the_router_accepts(dialplan: Dialplan) -> None:
    # One limit: identity.codes validates PINs, [globals] sizes the Read of the dialplan.
    assert dialplan.globals["HOTLINE_PIN_MAX_DIGITS"] == str(PIN_MAX_LENGTH)
    assert int(dialplan.globals["HOTLINE_ACCOUNT_MAX_DIGITS"]) >= ACCOUNT_NUMBER_LENGTH


@pytest.mark.parametrize("pass_digit", PASS_DIGITS)
@pytest.mark.parametrize("length", PIN_LENGTHS)
def test_account_pin_and_pass_each_followed_by_hash_as_the_prompts_ask(
    dialplan: Dialplan, pass_digit: str, length: int
) -> None:
    pin = pin_of(length)

    headers, silence, unread = call(dialplan, ACCOUNT + "#", pin + "#", pass_digit)

    assert (headers["Account"], headers["Pin"], headers["Pass"]) == (ACCOUNT, pin, pass_digit)
    assert unread == ""
    assert silence == 0  # "#" ends each entry at once, the pass is one key


@pytest.mark.parametrize("pass_digit", PASS_DIGITS)
@pytest.mark.parametrize("length", PIN_LENGTHS)
def test_account_and_pin_without_hash_end_after_the_digit_timeout(
    dialplan: Dialplan, pass_digit: str, length: int
) -> None:
    pin = pin_of(length)

    headers, silence, unread = call(dialplan, ACCOUNT, pin, pass_digit)

    assert (headers["Account"], headers["Pin"], headers["Pass"]) == (ACCOUNT, pin, pass_digit)
    assert unread == ""
    assert silence == 2 * int(dialplan.globals["HOTLINE_DIGIT_TIMEOUT"])


@pytest.mark.parametrize("pass_digit", PASS_DIGITS)
def test_a_beneficiary_who_presses_only_hash_is_asked_the_pass_not_a_pin(
    dialplan: Dialplan, pass_digit: str
) -> None:
    headers, silence, unread = call(dialplan, "#", pass_digit)

    assert (headers["Account"], headers["Pin"], headers["Pass"]) == ("", "", pass_digit)
    assert unread == ""
    assert silence == 0


@pytest.mark.parametrize("pass_digit", PASS_DIGITS)
def test_a_beneficiary_who_keys_nothing_is_asked_the_pass_after_one_timeout(
    dialplan: Dialplan, pass_digit: str
) -> None:
    headers, silence, unread = call(dialplan, "", pass_digit)

    assert (headers["Account"], headers["Pin"], headers["Pass"]) == ("", "", pass_digit)
    assert unread == ""
    assert silence == int(dialplan.globals["HOTLINE_DIGIT_TIMEOUT"])


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
