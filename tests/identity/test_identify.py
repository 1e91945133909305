"""Identifying callers: by caller ID, else by account number and PIN, with a lockout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.clock import FakeClock
from callrouter.identity.codes import CodeHasher
from callrouter.identity.errors import InvalidCredentials, SignInLocked
from callrouter.identity.lockout import LockoutPolicy
from callrouter.identity.service import (
    Identification,
    IdentificationStatus,
    IdentityService,
    NewAccount,
)

PIN = "482913"
WEB = "Kq7mXwP2rTz9"


@pytest.fixture
async def account(service: IdentityService) -> NewAccount:
    new = await service.create_account("Durand", pin=PIN, web_code=WEB)
    await service.add_beneficiary(new.number, "Marie Durand", "0612345678")
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


@pytest.mark.parametrize(("entry", "pin"), [("99999999", PIN), ("12ab", PIN), ("", PIN)])
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


async def test_five_wrong_pins_lock_the_phone_access_for_fifteen_minutes(
    service: IdentityService, account: NewAccount, clock: FakeClock
) -> None:
    statuses = [
        (await service.identify_caller(None, account.number, "000000")).status for _ in range(5)
    ]
    assert statuses == ["wrong-pin"] * 4 + ["locked"]

    assert (await service.identify_caller(None, account.number, PIN)).status == "locked"
    locked = await service.get_account(account.number)
    assert locked.pin_locked_until == clock.now() + timedelta(minutes=15)
    assert locked.web_locked_until is None

    clock.advance(timedelta(minutes=14, seconds=59))
    assert (await service.identify_caller(None, account.number, PIN)).status == "locked"
    clock.advance(timedelta(seconds=1))
    assert (await service.identify_caller(None, account.number, PIN)).status == "pin"
    assert (await service.get_account(account.number)).pin_locked_until is None


async def test_a_lock_does_not_stop_caller_id_recognition(
    service: IdentityService, account: NewAccount
) -> None:
    for _ in range(5):
        await service.identify_caller(None, account.number, "000000")
    assert (await service.identify_caller("0612345678", account.number, PIN)).status == "caller-id"


async def test_a_right_pin_resets_the_failure_count(
    service: IdentityService, account: NewAccount
) -> None:
    for _ in range(4):
        await service.identify_caller(None, account.number, "000000")
    assert (await service.identify_caller(None, account.number, PIN)).status == "pin"
    statuses = [
        (await service.identify_caller(None, account.number, "000000")).status for _ in range(4)
    ]
    assert statuses == ["wrong-pin"] * 4


async def test_lockout_thresholds_are_configurable(
    database_sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    cheap_web = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    service = IdentityService(
        database_sessions,
        clock,
        hasher=CodeHasher(web_hasher=cheap_web),
        pin_lockout=LockoutPolicy(max_failures=2, lock_duration=timedelta(minutes=1)),
    )
    new = await service.create_account("Durand", pin=PIN)
    await service.identify_caller(None, new.number, "000000")
    assert (await service.identify_caller(None, new.number, "000000")).status == "locked"
    clock.advance(timedelta(minutes=1))
    assert (await service.identify_caller(None, new.number, PIN)).status == "pin"


async def test_web_sign_in_accepts_the_right_code_only(
    service: IdentityService, account: NewAccount
) -> None:
    signed_in = await service.verify_web_code(account.number, WEB)
    assert signed_in.number == account.number
    with pytest.raises(InvalidCredentials, match="wrong account number or access code"):
        await service.verify_web_code(account.number, "Kq7mXwP2rTz8")
    with pytest.raises(InvalidCredentials, match="wrong account number or access code"):
        await service.verify_web_code("99999999", WEB)


async def test_web_sign_in_locks_after_five_failures_independently_of_the_phone(
    service: IdentityService, account: NewAccount, clock: FakeClock
) -> None:
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            await service.verify_web_code(account.number, "wrong-code-0")
    with pytest.raises(SignInLocked, match=f"account {account.number} is locked until"):
        await service.verify_web_code(account.number, "wrong-code-0")
    with pytest.raises(SignInLocked):
        await service.verify_web_code(account.number, WEB)
    assert (await service.identify_caller(None, account.number, PIN)).status == "pin"

    clock.advance(timedelta(minutes=15))
    assert (await service.verify_web_code(account.number, WEB)).number == account.number
