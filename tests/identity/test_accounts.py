"""Opening accounts: a number the caller can key in, codes shown once and stored hashed."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from callrouter.clock import FakeClock
from callrouter.identity.errors import AccountNotFound, InvalidCode, InvalidName
from callrouter.identity.models import Account
from callrouter.identity.service import IdentityService


async def test_a_new_account_gets_a_number_and_both_codes(
    service: IdentityService, clock: FakeClock
) -> None:
    new = await service.create_account("  Durand   Électricité ")

    assert len(new.number) == 8 and new.number.isdigit()
    assert len(new.pin) == 6 and new.pin.isdigit()
    assert len(new.web_code) >= 10
    assert new.holder_name == "Durand Électricité"
    account = await service.get_account(new.number)
    assert account.holder_name == "Durand Électricité"
    assert account.balance == 0
    assert account.created_at == clock.now()


async def test_codes_are_stored_hashed_never_in_clear(
    service: IdentityService, database_sessions: async_sessionmaker[AsyncSession]
) -> None:
    new = await service.create_account("Durand", pin="135790", web_code="SecretWeb2025")

    async with database_sessions() as session:
        stored = await session.scalar(select(Account).where(Account.number == new.number))
    assert stored is not None
    assert stored.pin_hash.startswith("$argon2id$") and "135790" not in stored.pin_hash
    assert stored.web_code_hash.startswith("$argon2id$")
    assert "SecretWeb2025" not in stored.web_code_hash
    assert (await service.identify_caller(None, new.number, "135790")).status == "pin"
    assert (await service.verify_web_code(new.number, "SecretWeb2025")).number == new.number


async def test_each_account_gets_its_own_number(service: IdentityService) -> None:
    numbers = {(await service.create_account(f"Holder {i}")).number for i in range(5)}
    assert len(numbers) == 5
    assert [a.number for a in await service.list_accounts()] == sorted(numbers)


@pytest.mark.parametrize(
    ("holder", "pin", "web_code", "error"),
    [
        ("   ", None, None, InvalidName),
        ("x" * 201, None, None, InvalidName),
        ("Durand", "12ab", None, InvalidCode),
        ("Durand", None, "too short", InvalidCode),
    ],
)
async def test_bad_input_opens_nothing(
    service: IdentityService,
    holder: str,
    pin: str | None,
    web_code: str | None,
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        await service.create_account(holder, pin=pin, web_code=web_code)
    assert await service.list_accounts() == []


async def test_an_unknown_number_is_reported(service: IdentityService) -> None:
    with pytest.raises(AccountNotFound, match="no account numbered '99999999'"):
        await service.get_account("99999999")
