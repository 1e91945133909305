"""A number a holder names is recognised only once proven: a call from that very number,
authenticated with the account's PIN (or staff vouching for it at the shell). Naming a
number never says whether it is a customer elsewhere."""

from __future__ import annotations

import pytest

from callrouter.identity.errors import BeneficiaryExists
from callrouter.identity.service import IdentityService, NewAccount

OWNER_PIN, SQUATTER_PIN = "111111", "222222"
OWNER_LINE = "0612345678"


@pytest.fixture
async def owner(service: IdentityService) -> NewAccount:
    return await service.create_account("Owner", pin=OWNER_PIN)


@pytest.fixture
async def squatter(service: IdentityService) -> NewAccount:
    return await service.create_account("Squatter", pin=SQUATTER_PIN)


async def test_a_named_number_is_pending_and_not_recognised(
    service: IdentityService, owner: NewAccount
) -> None:
    """Fails on main: a number any holder typed was recognised at once."""
    named = await service.name_beneficiary(owner.number, "Owner", "+33 6 12 34 56 78")
    assert named.caller_id == OWNER_LINE and named.confirmed_at is None
    assert (await service.identify_caller(OWNER_LINE, "", "")).status == "unknown"


async def test_a_call_from_the_number_with_the_pin_confirms_it(
    service: IdentityService, owner: NewAccount
) -> None:
    await service.name_beneficiary(owner.number, "Owner", OWNER_LINE)
    # The wrong PIN proves nothing.
    assert (await service.identify_caller(OWNER_LINE, owner.number, "000000")).status == (
        "wrong-pin"
    )
    assert (await service.identify_caller(OWNER_LINE, "", "")).status == "unknown"
    # Another line with the right PIN proves nothing about this number either.
    assert (await service.identify_caller("0700000001", owner.number, OWNER_PIN)).status == "pin"
    assert (await service.identify_caller(OWNER_LINE, "", "")).status == "unknown"

    assert (await service.identify_caller("33612345678", owner.number, OWNER_PIN)).status == "pin"
    found = await service.identify_caller(OWNER_LINE, "", "")
    assert (found.status, found.account_number) == ("caller-id", owner.number)
    [listed] = await service.list_beneficiaries(owner.number)
    assert listed.confirmed_at is not None


async def test_naming_a_customer_s_number_answers_like_any_other_number(
    service: IdentityService, owner: NewAccount, squatter: NewAccount
) -> None:
    """Fails on main: the second holder got a 409 confirming the number is a customer."""
    await service.add_beneficiary(owner.number, "Owner", OWNER_LINE)
    taken = await service.name_beneficiary(squatter.number, "Not mine", OWNER_LINE)
    free = await service.name_beneficiary(squatter.number, "Nobody", "0699999999")
    assert (taken.confirmed_at, free.confirmed_at) == (None, None)
    assert owner.number not in repr(taken)
    # Even a "proof" from that line (spoofed, say) cannot take the owner's number.
    assert (await service.identify_caller(OWNER_LINE, squatter.number, SQUATTER_PIN)).status == (
        "pin"
    )
    found = await service.identify_caller(OWNER_LINE, "", "")
    assert found.account_number == owner.number
    assert [b.confirmed_at for b in await service.list_beneficiaries(squatter.number)] == [None] * 2


async def test_a_pending_squatter_does_not_block_the_owner(
    service: IdentityService, owner: NewAccount, squatter: NewAccount
) -> None:
    await service.name_beneficiary(squatter.number, "Not mine", OWNER_LINE)
    await service.name_beneficiary(owner.number, "Owner", OWNER_LINE)
    assert (await service.identify_caller(OWNER_LINE, owner.number, OWNER_PIN)).status == "pin"
    assert (await service.identify_caller(OWNER_LINE, "", "")).account_number == owner.number


async def test_naming_the_same_number_twice_on_one_account_is_refused(
    service: IdentityService, owner: NewAccount
) -> None:
    await service.name_beneficiary(owner.number, "Owner", OWNER_LINE)
    with pytest.raises(BeneficiaryExists, match=f"already a beneficiary of account {owner.number}"):
        await service.name_beneficiary(owner.number, "Again", "+33612345678")


async def test_a_removed_pending_number_is_not_confirmed_by_a_call(
    service: IdentityService, owner: NewAccount
) -> None:
    await service.name_beneficiary(owner.number, "Owner", OWNER_LINE)
    await service.remove_beneficiary(owner.number, OWNER_LINE)
    assert (await service.identify_caller(OWNER_LINE, owner.number, OWNER_PIN)).status == "pin"
    assert (await service.identify_caller(OWNER_LINE, "", "")).status == "unknown"
