"""Account numbers and access codes: drawn with `secrets`, stored only as argon2id hashes.

seeds/000_0e15b6772b2a7f9e.txt: the holder receives "les codes d'accès personnels (web et
assistance téléphonique)".
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
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
    routing hot path, whose whole decision has a 5 ms p99 budget. The throttle, not the hash
    cost, is what stops guessing over the phone, and the pepper is what protects a stolen
    database: without it, 10^4 to 10^12 PINs at 1 ms each fall in minutes."""

    time_cost: int = 1
    memory_cost_kib: int = 2048
    parallelism: int = 1


#: Marks a PIN hash of scheme 2: argon2id over HMAC-SHA256(pepper, PIN). Scheme 1, the
#: bare argon2id string, is still verified and rewritten at the holder's next good PIN.
PEPPERED_PREFIX = "pepper1$"
#: Web-code verifications at once: each takes argon2's default 64 MiB and tens of ms, so an
#: anonymous client can never have more than this many cores' worth of them.
WEB_VERIFICATIONS_AT_ONCE = 2


@dataclass(frozen=True)
class PinCheck:
    matched: bool
    #: The stored hash is of an older scheme or cost: store a fresh one now the PIN is known.
    needs_rehash: bool = False


class CodeHasher:
    """Hashes and verifies codes; verification runs in a worker thread so the event loop
    never waits on argon2.

    `pin_pepper` is the server-side secret mixed into every PIN hash (from
    $CALLROUTER_PIN_PEPPER, see identity/pepper.py). Without it, PINs are hashed with the
    bare scheme 1 (tests, tools) and peppered hashes never match.
    """

    def __init__(
        self,
        pin_cost: PinHashCost | None = None,
        web_hasher: PasswordHasher | None = None,
        *,
        pin_pepper: bytes | None = None,
    ) -> None:
        cost = pin_cost or PinHashCost()
        self._pin = PasswordHasher(
            time_cost=cost.time_cost,
            memory_cost=cost.memory_cost_kib,
            parallelism=cost.parallelism,
        )
        self._pepper = pin_pepper
        # argon2's defaults for web codes: slow enough to make an offline attack expensive.
        self._web = web_hasher or PasswordHasher()
        self._web_slots = asyncio.Semaphore(WEB_VERIFICATIONS_AT_ONCE)
        self._dummies: dict[str, str] = {}

    async def hash_pin(self, pin: str) -> str:
        return await asyncio.to_thread(self._hash_pin, pin)

    async def hash_web_code(self, code: str) -> str:
        return await asyncio.to_thread(self._web.hash, code)

    async def verify_pin(self, stored_hash: str | None, pin: str) -> PinCheck:
        """A mismatch, or a match that may ask for a fresh hash. With no hash (unknown
        account) a dummy is checked, so the answer takes as long as for a real account and
        does not reveal which numbers exist."""
        return await asyncio.to_thread(self._check_pin, stored_hash, pin)

    async def verify_web_code(self, stored_hash: str | None, code: str) -> bool:
        """As verify_pin, for web access codes, at most WEB_VERIFICATIONS_AT_ONCE at once."""
        async with self._web_slots:
            return await asyncio.to_thread(self._check_web, stored_hash, code)

    def _hash_pin(self, pin: str) -> str:
        if self._pepper is None:
            return self._pin.hash(pin)
        return PEPPERED_PREFIX + self._pin.hash(_peppered(self._pepper, pin))

    def _check_pin(self, stored_hash: str | None, pin: str) -> PinCheck:
        if stored_hash is None:
            _verify(self._pin, self._dummy("pin"), pin)
            return PinCheck(matched=False)
        if stored_hash.startswith(PEPPERED_PREFIX):
            if self._pepper is None:
                return PinCheck(matched=False)
            argon2_hash = stored_hash.removeprefix(PEPPERED_PREFIX)
            if not _verify(self._pin, argon2_hash, _peppered(self._pepper, pin)):
                return PinCheck(matched=False)
            return PinCheck(matched=True, needs_rehash=self._pin.check_needs_rehash(argon2_hash))
        if not _verify(self._pin, stored_hash, pin):
            return PinCheck(matched=False)
        stale = self._pepper is not None or self._pin.check_needs_rehash(stored_hash)
        return PinCheck(matched=True, needs_rehash=stale)

    def _check_web(self, stored_hash: str | None, code: str) -> bool:
        if stored_hash is not None:
            return _verify(self._web, stored_hash, code)
        _verify(self._web, self._dummy("web"), code)
        return False

    def _dummy(self, kind: str) -> str:
        dummy = self._dummies.get(kind)
        if dummy is None:
            hasher = self._pin if kind == "pin" else self._web
            dummy = self._dummies[kind] = hasher.hash(secrets.token_hex(16))
        return dummy


def _peppered(pepper: bytes, pin: str) -> str:
    return hmac.new(pepper, pin.encode("utf-8"), hashlib.sha256).hexdigest()


def _verify(hasher: PasswordHasher, stored_hash: str, code: str) -> bool:
    try:
        return hasher.verify(stored_hash, code)
    except VerifyMismatchError:
        return False
