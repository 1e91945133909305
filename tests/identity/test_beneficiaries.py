"""Beneficiaries: the holder adds and removes them; removal keeps the history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from callrouter.clock import FakeClock
from callrouter.identity.errors import (
    AccountNotFound,
    BeneficiaryExists,
    BeneficiaryNotFound,
    InvalidCallerId,
    InvalidName,
)
from callrouter.identity.service import IdentityService


async def test_added_beneficiaries_are_listed_with_normalised_numbers(
    service: IdentityService, clock: FakeClock
) -> None:
    account = await service.create_account("Durand")
    added = await service.add_beneficiary(account.number, "Marie Durand", "+33 6 12 34 56 78")
    await service.add_beneficiary(account.number, "Paul Durand", "07.11.22.33.44")

    assert added.caller_id == "0612345678"
    assert added.created_at == clock.now()
    listed = await service.list_beneficiaries(account.number)
    assert [(b.name, b.caller_id) for b in listed] == [
        ("Marie Durand", "0612345678"),
        ("Paul Durand", "0711223344"),
    ]


async def test_a_caller_id_belongs_to_one_active_beneficiary(service: IdentityService) -> None:
    first = await service.create_account("Durand")
    second = await service.create_account("Martin")
    await service.add_beneficiary(first.number, "Marie", "0612345678")

    with pytest.raises(BeneficiaryExists, match=f"already a beneficiary of account {first.number}"):
        await service.add_beneficiary(first.number, "Marie again", "+33612345678")
    with pytest.raises(BeneficiaryExists, match="confirmed on another account") as caught:
        await service.add_beneficiary(second.number, "Someone", "06 12 34 56 78")
    assert first.number not in str(caught.value)
    assert await service.list_beneficiaries(second.number) == []


async def test_removal_keeps_history_and_frees_the_caller_id(
    service: IdentityService, clock: FakeClock
) -> None:
    first = await service.create_account("Durand")
    second = await service.create_account("Martin")
    await service.add_beneficiary(first.number, "Marie", "0612345678")
    clock.advance(timedelta(days=3))

    removed = await service.remove_beneficiary(first.number, "+33 6 12 34 56 78")

    assert removed.removed_at == clock.now()
    assert await service.list_beneficiaries(first.number) == []
    history = await service.list_beneficiaries(first.number, include_removed=True)
    assert [(b.name, b.removed_at) for b in history] == [("Marie", clock.now())]
    moved = await service.add_beneficiary(second.number, "Marie", "0612345678")
    assert moved.account_number == second.number


async def test_removing_someone_who_is_not_there_is_reported(service: IdentityService) -> None:
    account = await service.create_account("Durand")
    await service.add_beneficiary(account.number, "Marie", "0612345678")
    await service.remove_beneficiary(account.number, "0612345678")

    with pytest.raises(BeneficiaryNotFound, match="no active beneficiary with caller id 0612"):
        await service.remove_beneficiary(account.number, "0612345678")


async def test_bad_beneficiary_input_is_refused(service: IdentityService) -> None:
    account = await service.create_account("Durand")
    with pytest.raises(InvalidCallerId):
        await service.add_beneficiary(account.number, "Marie", "anonymous")
    with pytest.raises(InvalidName):
        await service.add_beneficiary(account.number, " ", "0612345678")
    with pytest.raises(AccountNotFound):
        await service.add_beneficiary("11111111", "Marie", "0612345678")
    assert await service.list_beneficiaries(account.number, include_removed=True) == []
