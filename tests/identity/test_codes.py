"""Account numbers and codes: the right shape, hashed with argon2id, verified off the loop."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, extract_parameters

from callrouter.identity.codes import (
    WEB_CODE_ALPHABET,
    CodeHasher,
    check_pin,
    check_web_code,
    generate_account_number,
    generate_pin,
    generate_web_code,
)
from callrouter.identity.errors import InvalidCode


def test_drawn_numbers_and_codes_have_the_promised_shape() -> None:
    numbers = {generate_account_number() for _ in range(200)}
    assert all(len(n) == 8 and n.isdigit() and n[0] != "0" for n in numbers)
    assert len(numbers) > 190
    pins = [generate_pin() for _ in range(50)]
    assert all(len(p) == 6 and p.isdigit() for p in pins)
    codes = [generate_web_code() for _ in range(50)]
    assert all(len(c) >= 10 and set(c) <= set(WEB_CODE_ALPHABET) for c in codes)


@pytest.mark.parametrize("pin", ["12a456", "123", "1234567890123", "１２３４５６", ""])
def test_unkeyable_pins_are_refused(pin: str) -> None:
    with pytest.raises(InvalidCode, match="PIN"):
        check_pin(pin)


@pytest.mark.parametrize("code", ["short", "has a space 123", "tab\tinside12", "x" * 129])
def test_bad_web_codes_are_refused(code: str) -> None:
    with pytest.raises(InvalidCode, match="web access code"):
        check_web_code(code)


async def test_pin_hashes_are_cheap_argon2id_and_verify() -> None:
    hasher = CodeHasher()
    stored = await hasher.hash_pin("246810")
    assert stored.startswith("$argon2id$")
    assert "m=2048,t=1,p=1" in stored
    assert "246810" not in stored
    assert await hasher.verify_pin(stored, "246810")
    assert not await hasher.verify_pin(stored, "246811")


async def test_web_codes_use_argon2_defaults() -> None:
    hasher = CodeHasher()
    stored = await hasher.hash_web_code("Kq7mXwP2rTz9")
    assert stored.startswith("$argon2id$")
    used, default = extract_parameters(stored), PasswordHasher()
    assert (used.time_cost, used.memory_cost, used.parallelism) == (
        default.time_cost,
        default.memory_cost,
        default.parallelism,
    )
    assert await hasher.verify_web_code(stored, "Kq7mXwP2rTz9")
    assert not await hasher.verify_web_code(stored, "Kq7mXwP2rTz8")


async def test_without_a_stored_hash_nothing_verifies() -> None:
    hasher = CodeHasher()
    assert not await hasher.verify_pin(None, "123456")
    assert not await hasher.verify_pin(None, "")
