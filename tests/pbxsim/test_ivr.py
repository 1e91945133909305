"""DTMF entry as Read() takes it and [hotline-identify] chains it: what the dialplan reads
and when it is done."""

from __future__ import annotations

import pytest

from callrouter.pbxsim.ivr import Keypress, identify, keying, read
from callrouter.pbxsim.settings import DEFAULT_PROMPTS

#: After the welcome (2.96 s), like the project's IVR test caller (TEST_WAIT=4).
START = 4.0
WELCOME = DEFAULT_PROMPTS["callrouter/bienvenue"]


def keyed(digits: str, *, start: float = START) -> tuple[str, str, str, float]:
    keys = keying(digits, start, gap=0.25)
    found = identify(keys, WELCOME, DEFAULT_PROMPTS, timeout=6.0, with_pass=True)
    return found.account, found.pin, found.pass_digit, found.ends_at


def test_account_pin_and_pass_each_ended_by_hash() -> None:
    account, pin, pass_digit, ends_at = keyed("12345678#1234#1")
    assert (account, pin, pass_digit) == ("12345678", "1234", "1")
    # 15 keys of 100 ms tone + 250 ms from 4 s: the IVR takes seconds, not one.
    assert ends_at == pytest.approx(START + 14 * 0.35 + 0.1)


@pytest.mark.parametrize("pin", ["1234", "123456", "123456789012"])
def test_no_pin_length_spills_into_the_pass_choice(pin: str) -> None:
    assert keyed(f"12345678#{pin}#3")[:3] == ("12345678", pin, "3")


def test_a_beneficiary_presses_hash_alone_and_is_asked_no_pin() -> None:
    assert keyed("#2")[:3] == ("", "", "2")


def test_silence_ends_an_entry_after_the_digit_timeout() -> None:
    # The account prompt plays 9.42 s, then 6 s of silence end the account Read.
    account, pin, pass_digit, ends_at = keyed("")
    assert (account, pin, pass_digit) == ("", "", "")
    prompts = DEFAULT_PROMPTS["callrouter/numero-compte"] + DEFAULT_PROMPTS["callrouter/choix-pass"]
    assert ends_at == pytest.approx(WELCOME + prompts + 2 * 6.0)


def test_digits_keyed_during_the_welcome_playback_are_lost() -> None:
    # The Asterisk kit's test caller starts after 2 s: "1", "2", "3" end before 2.96 s.
    assert keyed("12345678#1234#1", start=2.0)[:3] == ("45678", "1234", "1")


def test_a_read_with_a_digit_limit_leaves_the_next_key_to_the_next_read() -> None:
    keys = keying("123456#3", 0.0, gap=0.25)
    first = read(keys, 0.0, 0.0, 6.0, max_digits=6)
    assert first.keyed == "123456"
    assert read(first.unread, first.ends_at, 0.0, 6.0, max_digits=1).keyed == ""


def test_keying_sounds_each_digit_100_ms_then_waits_the_gap_and_pauses_on_w() -> None:
    assert keying("1W#", 2.0, gap=0.25) == [
        Keypress("1", 2.0, pytest.approx(2.1)),  # type: ignore[arg-type]
        Keypress("#", pytest.approx(3.35), pytest.approx(3.45)),  # type: ignore[arg-type]
    ]
