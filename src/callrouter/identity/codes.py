"""Account numbers and access codes: drawn with `secrets`, stored only as argon2id hashes.

seeds/000_0e15b6772b2a7f9e.txt: the holder receives "les codes d'accès personnels (web et
assistance téléphonique)".
"""

from __future__ import annotations

import asyncio
import secrets
import string
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError

from callrouter.identity.errors import InvalidCode
from callrouter.identity.models import ACCOUNT_NUMBER_LENGTH

PIN_LENGTH = 6
PIN_MIN_LENGTH, PIN_MAX_LENGTH = 4, 12
WEB_CODE_LENGTH = 12
WEB_CODE_MIN_LENGTH, WEB_CODE_MAX_LENGTH = 10, 128
# No 0/O, 1/l/I: the web code is read off a letter or a screen and typed by hand.
WEB_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"


def generate_account_number() -> str:
    """8 digits, never starting with 0 (people and spreadsheets drop leading zeros)."""
    return secrets.choice("123456789") + "".join(
        secrets.choice(string.digits) for _ in range(ACCOUNT_NUMBER_LENGTH - 1)
    )


def generate_pin() -> str:
    return "".join(secrets.choice(string.digits) for _ in range(PIN_LENGTH))


def generate_web_code() -> str:
    return "".join(secrets.choice(WEB_CODE_ALPHABET) for _ in range(WEB_CODE_LENGTH))


def check_pin(pin: str) -> str:
    """A PIN chosen by a person must still be keyable on a phone."""
    if not (pin.isascii() and pin.isdigit()):
        raise InvalidCode("a PIN has digits only, keyed on the phone")
    if not PIN_MIN_LENGTH <= len(pin) <= PIN_MAX_LENGTH:
        raise InvalidCode(f"a PIN has {PIN_MIN_LENGTH} to {PIN_MAX_LENGTH} digits")
    return pin


def check_web_code(code: str) -> str:
    if not WEB_CODE_MIN_LENGTH <= len(code) <= WEB_CODE_MAX_LENGTH:
        raise InvalidCode(
            f"a web access code has {WEB_CODE_MIN_LENGTH} to {WEB_CODE_MAX_LENGTH} characters"
        )
    if not code.isprintable() or any(character.isspace() for character in code):
        raise InvalidCode("a web access code has no spaces or control characters")
    return code


@dataclass(frozen=True)
class PinHashCost:
    """argon2id cost of phone PINs. Cheap on purpose (about 1 ms): the PIN is checked on the
    routing hot path, whose whole decision has a 5 ms p99 budget. The lockout, not the hash
    cost, is what stops guessing over the phone."""

    time_cost: int = 1
    memory_cost_kib: int = 2048
    parallelism: int = 1


class CodeHasher:
    """Hashes and verifies codes; verification runs in a worker thread so the event loop
    never waits on argon2."""

    def __init__(
        self, pin_cost: PinHashCost | None = None, web_hasher: PasswordHasher | None = None
    ) -> None:
        cost = pin_cost or PinHashCost()
        self._pin = PasswordHasher(
            time_cost=cost.time_cost,
            memory_cost=cost.memory_cost_kib,
            parallelism=cost.parallelism,
        )
        # argon2's defaults for web codes: slow enough to make an offline attack expensive.
        self._web = web_hasher or PasswordHasher()
        self._dummies: dict[str, str] = {}

    async def hash_pin(self, pin: str) -> str:
        return await asyncio.to_thread(self._pin.hash, pin)

    async def hash_web_code(self, code: str) -> str:
        return await asyncio.to_thread(self._web.hash, code)

    async def verify_pin(self, stored_hash: str | None, pin: str) -> bool:
        """False on a mismatch. With no hash (unknown account) a dummy is checked, so the
        answer takes as long as for a real account and does not reveal which numbers exist."""
        return await asyncio.to_thread(self._check, self._pin, "pin", stored_hash, pin)

    async def verify_web_code(self, stored_hash: str | None, code: str) -> bool:
        """As verify_pin, for web access codes."""
        return await asyncio.to_thread(self._check, self._web, "web", stored_hash, code)

    def _check(self, hasher: PasswordHasher, kind: str, stored_hash: str | None, code: str) -> bool:
        if stored_hash is not None:
            return _verify(hasher, stored_hash, code)
        dummy = self._dummies.get(kind)
        if dummy is None:
            dummy = self._dummies[kind] = hasher.hash(secrets.token_hex(16))
        _verify(hasher, dummy, code)
        return False


def _verify(hasher: PasswordHasher, stored_hash: str, code: str) -> bool:
    try:
        return hasher.verify(stored_hash, code)
    except VerifyMismatchError:
        return False
