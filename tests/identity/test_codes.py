"""Account numbers and codes: the right shape, hashed with argon2id, verified off the loop."""

from __future__ import annotations

import asyncio
import hmac
import threading

import pytest
from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import VerifyMismatchError

from callrouter.identity.codes import (
    PEPPERED_PREFIX,
    WEB_CODE_ALPHABET,
    WEB_VERIFICATIONS_AT_ONCE,
    CodeHasher,
    PinCheck,
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
    assert await hasher.verify_pin(stored, "246810") == PinCheck(matched=True)
    assert await hasher.verify_pin(stored, "246811") == PinCheck(matched=False)


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
    assert await hasher.verify_pin(None, "123456") == PinCheck(matched=False)
    assert await hasher.verify_pin(None, "") == PinCheck(matched=False)


PEPPER = b"p" * 32


async def test_peppered_pin_hashes_do_not_yield_the_pin_without_the_pepper() -> None:
    hasher = CodeHasher(pin_pepper=PEPPER)
    stored = await hasher.hash_pin("246810")
    assert stored.startswith(PEPPERED_PREFIX + "$argon2id$")
    assert "m=2048,t=1,p=1" in stored
    assert await hasher.verify_pin(stored, "246810") == PinCheck(matched=True)
    assert await hasher.verify_pin(stored, "246811") == PinCheck(matched=False)
    # What a thief of the database holds: argon2 of something that is not the PIN.
    bare = stored.removeprefix(PEPPERED_PREFIX)
    with pytest.raises(VerifyMismatchError):
        PasswordHasher().verify(bare, "246810")
    assert await CodeHasher(pin_pepper=b"q" * 32).verify_pin(stored, "246810") == PinCheck(False)
    assert await CodeHasher().verify_pin(stored, "246810") == PinCheck(matched=False)


async def test_unpeppered_hashes_still_verify_and_ask_to_be_rewritten() -> None:
    legacy = await CodeHasher().hash_pin("246810")
    hasher = CodeHasher(pin_pepper=PEPPER)
    assert await hasher.verify_pin(legacy, "246810") == PinCheck(matched=True, needs_rehash=True)
    assert await hasher.verify_pin(legacy, "000000") == PinCheck(matched=False)


async def test_a_costlier_pin_setting_asks_for_a_fresh_hash() -> None:
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    peppered = PEPPERED_PREFIX + cheap.hash(hmac.new(PEPPER, b"246810", "sha256").hexdigest())
    hasher = CodeHasher(pin_pepper=PEPPER)
    assert await hasher.verify_pin(peppered, "246810") == PinCheck(True, needs_rehash=True)


class _SlowWebHasher(PasswordHasher):
    """Counts the verifications running at once; each waits until released."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()
        self.release = threading.Event()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        self.release.wait(5)
        with self.lock:
            self.running -= 1
        return False


async def test_web_code_verifications_run_a_few_at_a_time() -> None:
    slow = _SlowWebHasher()
    hasher = CodeHasher(web_hasher=slow)
    stored = slow.hash("Kq7mXwP2rTz9")
    checks = [asyncio.create_task(hasher.verify_web_code(stored, "x" * 12)) for _ in range(6)]
    for _ in range(50):
        await asyncio.sleep(0.01)
        if slow.running == WEB_VERIFICATIONS_AT_ONCE:
            break
    assert slow.running == WEB_VERIFICATIONS_AT_ONCE
    slow.release.set()
    assert await asyncio.gather(*checks) == [False] * 6
    assert slow.most == WEB_VERIFICATIONS_AT_ONCE == 2
