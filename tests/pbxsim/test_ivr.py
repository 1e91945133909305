"""DTMF entry as Read() takes it: what each Read() gets and when the IVR is done."""

from __future__ import annotations

import pytest

from callrouter.pbxsim.ivr import Keypress, ReadStep, keying, read_entries

#: [hotline-identify] and the pass Read() of dialplans/extensions.conf on main.
STEPS = [ReadStep("account", 12, 2.0), ReadStep("pin", 6, 2.0), ReadStep("pass", 1, 2.0)]


def values(
    digits: str, *, start: float = 2.0, welcome: float = 1.5
) -> tuple[dict[str, str], float]:
    keys = keying(digits, start, gap=0.25)
    result = read_entries(keys, welcome, STEPS, timeout=6.0)
    return result.values, result.ends_at


def test_the_kit_example_reads_account_pin_and_pass_in_about_seven_seconds() -> None:
    read, ends_at = values("12345678#1234#1")
    assert read == {"account": "12345678", "pin": "1234", "pass": "1"}
    # 2 s before the first digit, then 15 keys of 100 ms + 250 ms.
    assert ends_at == pytest.approx(2.0 + 14 * 0.35 + 0.1)


def test_a_six_digit_pin_then_hash_loses_the_pass_digit() -> None:
    """Read stops at 6 digits: the `#` the prompt asks for ends the pass Read empty, and the
    pass digit is left over (issue 7, item 1: the simulator shows it as the PBX does)."""
    read, _ = values("12345678#123456#3")
    assert read == {"account": "12345678", "pin": "123456", "pass": ""}


def test_silence_ends_each_read_after_the_digit_timeout() -> None:
    read, ends_at = values("")
    assert read == {"account": "", "pin": "", "pass": ""}
    assert ends_at == pytest.approx(1.5 + 3 * (2.0 + 6.0))


def test_digits_keyed_during_the_welcome_playback_are_lost() -> None:
    # "1", "2" and "#" end before the prompt, at 0.1, 0.45 and 0.8 s.
    read, _ = values("12#34#5678#1", start=0.0, welcome=1.0)
    assert read == {"account": "34", "pin": "5678", "pass": "1"}


def test_keying_sounds_each_digit_100_ms_then_waits_the_gap() -> None:
    assert keying("1#", 2.0, gap=0.25) == [
        Keypress("1", 2.0, pytest.approx(2.1)),  # type: ignore[arg-type]
        Keypress("#", pytest.approx(2.35), pytest.approx(2.45)),  # type: ignore[arg-type]
    ]
