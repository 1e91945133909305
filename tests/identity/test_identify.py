"""Identifying callers: account number and PIN first, else caller ID, with a throttle that
hurts the guesser and not the holder."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.clock import FakeClock
from callrouter.identity.codes import PEPPERED_PREFIX, CodeHasher
from callrouter.identity.errors import InvalidCredentials, SignInLocked
from callrouter.identity.models import Account, SignInCounter
from callrouter.identity.service import (
    Identification,
    IdentificationStatus,
    IdentityService,
    NewAccount,
)
from callrouter.identity.throttle import SignInPolicy, ThrottlePolicy

PIN = "482913"
WEB = "Kq7mXwP2rTz9"


@pytest.fixture
async def account(service: IdentityService) -> NewAccount:
    new = await service.create_account("Durand", pin=PIN, web_code=WEB)
    await service.add_beneficiary(new.number, "Marie Durand", "0612345678")
    # A line the holder once called from: proven by that success.
    assert (await service.identify_caller("0644444444", new.number, PIN)).status == "pin"
    return new


async def test_a_beneficiary_is_recognised_by_caller_id_without_pin(
    service: IdentityService, account: NewAccount
) -> None:
    found = await service.identify_caller("+33612345678", "", "")
    assert found == Identification(
        IdentificationStatus.CALLER_ID, account.number, "Marie Durand", balance=0
    )
    assert found.status == "caller-id"


async def test_a_removed_beneficiary_is_no_longer_recognised(
    service: IdentityService, account: NewAccount
) -> None:
    await service.remove_beneficiary(account.number, "0612345678")
    found = await service.identify_caller("0612345678", None, None)
    assert found == Identification(IdentificationStatus.UNKNOWN)


async def test_account_and_pin_identify_any_caller(
    service: IdentityService, account: NewAccount
) -> None:
    found = await service.identify_caller("0499999999", account.number, PIN)
    assert found == Identification(IdentificationStatus.PIN, account.number, balance=0)


@pytest.mark.parametrize("caller_id", [None, "", "anonymous", "0700000000"])
async def test_nothing_keyed_and_no_known_caller_id_is_unknown(
    service: IdentityService, account: NewAccount, caller_id: str | None
) -> None:
    assert (await service.identify_caller(caller_id, "", "")).status == "unknown"


async def test_a_wrong_pin_is_reported_with_the_account(
    service: IdentityService, account: NewAccount
) -> None:
    found = await service.identify_caller(None, account.number, "000000")
    assert found == Identification(IdentificationStatus.WRONG_PIN, account.number)


@pytest.mark.parametrize(("entry", "pin"), [("99999999", PIN), ("12ab", PIN), ("", PIN), ("1", "")])
async def test_an_unusable_entry_is_a_wrong_pin_revealing_nothing(
    service: IdentityService, account: NewAccount, entry: str, pin: str
) -> None:
    found = await service.identify_caller(None, entry, pin)
    assert found == Identification(IdentificationStatus.WRONG_PIN)


async def test_an_account_without_pin_is_a_wrong_pin(
    service: IdentityService, account: NewAccount
) -> None:
    found = await service.identify_caller(None, account.number, "")
    assert found == Identification(IdentificationStatus.WRONG_PIN)


async def test_five_wrong_pins_block_that_line_on_that_account_like_an_invented_number(
    service: IdentityService, account: NewAccount, clock: FakeClock
) -> None:
    """Fails on main: the real account answered "locked" (refused at once) where an
    invented number kept answering "wrong-pin" (another try)."""
    for entry in (account.number, "99999999"):
        statuses = [
            (await service.identify_caller("0711111111", entry, "000000")).status for _ in range(6)
        ]
        assert statuses == ["wrong-pin"] * 6
    # Blocked: even the right PIN from that line is "wrong-pin", for 15 minutes exactly.
    assert (await service.identify_caller("0711111111", account.number, PIN)).status == "wrong-pin"
    clock.advance(timedelta(minutes=14, seconds=59))
    assert (await service.identify_caller("0711111111", account.number, PIN)).status == "wrong-pin"
    clock.advance(timedelta(seconds=1))
    assert (await service.identify_caller("0711111111", account.number, PIN)).status == "pin"


async def test_a_stranger_cannot_keep_the_holder_out(
    service: IdentityService, account: NewAccount
) -> None:
    """Fails on main: five wrong PINs from anyone locked the account for everyone."""
    for line in ("0711111111", "0722222222", "0733333333"):
        for _ in range(10):
            await service.identify_caller(line, account.number, "000000")
    # From the holder's own proven number, typing the account and PIN.
    assert (await service.identify_caller("0612345678", account.number, PIN)).status == "pin"
    # From a line that succeeded before the attack.
    assert (await service.identify_caller("0644444444", account.number, PIN)).status == "pin"
    for _ in range(30):
        await service.identify_caller("0755555555", account.number, "000000")
    assert (await service.identify_caller("0644444444", account.number, PIN)).status == "pin"


async def test_one_line_spraying_many_accounts_is_slowed_down(
    service: IdentityService, account: NewAccount
) -> None:
    for entry in range(10_000_000, 10_000_010):
        await service.identify_caller("0711111111", str(entry), "000000")
    # 10 failures within the hour: that line now gets "wrong-pin" whatever it tries.
    assert (await service.identify_caller("0711111111", account.number, PIN)).status == "wrong-pin"
    assert (await service.identify_caller("0722222222", account.number, PIN)).status == "pin"


async def test_typed_account_and_pin_win_over_caller_id(service: IdentityService) -> None:
    """Fails on main: a squatter's beneficiary entry took the owner's calls even when the
    owner typed their own account and PIN."""
    owner = await service.create_account("Owner", pin="111111")
    squatter = await service.create_account("Squatter", pin="222222")
    await service.add_beneficiary(squatter.number, "Me", "0699999999")
    found = await service.identify_caller("0699999999", owner.number, "111111")
    assert found == Identification(IdentificationStatus.PIN, owner.number, balance=0)
    # Typed but wrong: a PIN retry, never a fallback to the number's account.
    wrong = await service.identify_caller("0699999999", owner.number, "000000")
    assert wrong == Identification(IdentificationStatus.WRONG_PIN, owner.number)
    # Nothing typed: the number is recognised.
    assert (await service.identify_caller("0699999999", "", "")).account_number == squatter.number


async def test_pins_are_peppered_and_old_hashes_are_upgraded_at_the_next_good_pin(
    database_sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    cheap_web = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    old = IdentityService(database_sessions, clock, hasher=CodeHasher(web_hasher=cheap_web))
    new = await old.create_account("Durand", pin=PIN, web_code=WEB)
    peppered = IdentityService(
        database_sessions,
        clock,
        hasher=CodeHasher(web_hasher=cheap_web, pin_pepper=b"k" * 32),
    )
    assert (await peppered.identify_caller(None, new.number, PIN)).status == "pin"
    async with database_sessions() as session:
        stored = await session.scalar(select(Account.pin_hash).where(Account.number == new.number))
    assert stored is not None and stored.startswith(PEPPERED_PREFIX)
    assert (await peppered.identify_caller(None, new.number, PIN)).status == "pin"
    # The database alone (no pepper) no longer verifies it.
    assert (await old.identify_caller("0700000001", new.number, PIN)).status == "wrong-pin"


async def test_thresholds_are_configurable(
    database_sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    cheap_web = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    one_try = ThrottlePolicy(1, timedelta(minutes=1), timedelta(minutes=1), timedelta(minutes=4))
    policy = SignInPolicy(one_try, one_try, one_try, one_try)
    service = IdentityService(
        database_sessions, clock, hasher=CodeHasher(web_hasher=cheap_web), pin_throttle=policy
    )
    new = await service.create_account("Durand", pin=PIN)
    await service.identify_caller("0700000001", new.number, "000000")
    assert (await service.identify_caller("0700000001", new.number, PIN)).status == "wrong-pin"
    clock.advance(timedelta(minutes=1))
    assert (await service.identify_caller("0700000001", new.number, PIN)).status == "pin"


async def test_web_sign_in_accepts_the_right_code_only(
    service: IdentityService, account: NewAccount
) -> None:
    signed_in = await service.verify_web_code(account.number, WEB)
    assert signed_in.number == account.number
    with pytest.raises(InvalidCredentials, match="wrong account number or access code"):
        await service.verify_web_code(account.number, "Kq7mXwP2rTz8")
    with pytest.raises(InvalidCredentials, match="wrong account number or access code"):
        await service.verify_web_code("99999999", WEB)


async def _web_answers(service: IdentityService, number: str, address: str) -> list[str]:
    answers = []
    for _ in range(6):
        try:
            await service.verify_web_code(number, "wrong-code-0", address)
        except (InvalidCredentials, SignInLocked) as refused:
            answers.append(str(refused))
    return answers


async def test_web_answers_the_same_for_a_real_and_an_invented_account(
    service: IdentityService, account: NewAccount, clock: FakeClock
) -> None:
    """Fails on main: the real account answered 429 "locked" on the 5th failure, an
    invented one kept answering 401."""
    real = await _web_answers(service, account.number, "198.51.100.7")
    invented = await _web_answers(service, "99999999", "198.51.100.8")
    assert real == invented
    assert real[:4] == ["wrong account number or access code"] * 4
    assert real[4] == real[5] and real[4].startswith("too many failed attempts from here")


async def test_web_failures_from_elsewhere_do_not_keep_the_holder_out(
    service: IdentityService, account: NewAccount, clock: FakeClock
) -> None:
    await service.verify_web_code(account.number, WEB, "203.0.113.5")
    for octet in range(1, 10):
        await _web_answers(service, account.number, f"198.51.100.{octet}")
    assert (await service.verify_web_code(account.number, WEB, "203.0.113.5")).number
    # The attacker's own address stays blocked, right code or not, until the back-off ends.
    with pytest.raises(SignInLocked):
        await service.verify_web_code(account.number, WEB, "198.51.100.1")
    assert (await service.identify_caller(None, account.number, PIN)).status == "pin"
    clock.advance(timedelta(minutes=15))
    assert (await service.verify_web_code(account.number, WEB, "198.51.100.1")).number


async def test_a_throttled_web_try_burns_no_hash(
    database_sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    counting = _CountingHasher(web_hasher=PasswordHasher(time_cost=1, memory_cost=1024))
    service = IdentityService(database_sessions, clock, hasher=counting)
    for _ in range(20):
        with pytest.raises((InvalidCredentials, SignInLocked)):
            await service.verify_web_code("12345678", "wrong-code-0", "198.51.100.7")
    assert counting.web_checks == 5


class _CountingHasher(CodeHasher):
    web_checks = 0

    async def verify_web_code(self, stored_hash: str | None, code: str) -> bool:
        self.web_checks += 1
        return await super().verify_web_code(stored_hash, code)


async def test_spent_counters_are_forgotten_about_once_an_hour(
    service: IdentityService,
    account: NewAccount,
    clock: FakeClock,
    database_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async def rows() -> list[tuple[str, str]]:
        async with database_sessions() as session:
            found = await session.execute(select(SignInCounter.scope, SignInCounter.key))
            return sorted((scope, key) for scope, key in found.all())

    await service.identify_caller("0711111111", "11111111", "000000")
    assert len(await rows()) == 4 + 1  # the attacker's four, the fixture's proven pair
    clock.advance(timedelta(hours=1))
    await service.identify_caller("0722222222", "22222222", "000000")
    # The first failure's source, pair and account were spent: gone. The overall counter is
    # counting again, the proven pair stays.
    assert await rows() == sorted(
        [
            ("overall", "*"),
            ("pair", f"{account.number}|tel:0644444444"),
            ("pair", "22222222|tel:0722222222"),
            ("source", "tel:0722222222"),
            ("account", "22222222"),
        ]
    )
