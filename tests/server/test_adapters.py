"""The router's view of identification: each status identity gives reaches routing intact.

The adapter maps the two enums member by member; a status added on one side only must fail
here, not on a live call.
"""

from __future__ import annotations

from inspect import signature

import pytest

from callrouter.identity.service import Identification, IdentificationStatus, IdentityService
from callrouter.routing.decision import Caller, CallerStatus
from callrouter.server.adapters import IdentityDirectory

#: What each identification means to routing (routing/decision.py, identity/service.py).
MEANING = {
    IdentificationStatus.CALLER_ID: CallerStatus.RECOGNISED,
    IdentificationStatus.PIN: CallerStatus.PIN_ACCEPTED,
    IdentificationStatus.UNKNOWN: CallerStatus.UNKNOWN,
    IdentificationStatus.WRONG_PIN: CallerStatus.WRONG_PIN,
}


class FixedIdentity:
    """The one method of IdentityService the directory calls, answering one identification."""

    def __init__(self, answer: Identification) -> None:
        self.answer = answer
        self.asked: list[tuple[str | None, str | None, str | None]] = []

    async def identify_caller(
        self, caller_id: str | None, account_entry: str | None, pin: str | None
    ) -> Identification:
        self.asked.append((caller_id, account_entry, pin))
        return self.answer


def directory(answer: Identification) -> tuple[IdentityDirectory, FixedIdentity]:
    identity = FixedIdentity(answer)
    return IdentityDirectory(identity), identity  # type: ignore[arg-type]


@pytest.mark.parametrize("status", list(IdentificationStatus))
async def test_each_identification_status_reaches_routing(status: IdentificationStatus) -> None:
    found = Identification(status, "100042", "Jeanne Roux", balance=120)
    router_view, identity = directory(found)
    identified = await router_view.identify("0612345678", "100042", "1234")
    assert identified.caller == Caller(MEANING[status], "100042", "Jeanne Roux")
    assert identified.balance == 120
    assert identity.asked == [("0612345678", "100042", "1234")]


async def test_every_routing_status_comes_from_exactly_one_identification() -> None:
    reached = []
    for status in IdentificationStatus:
        router_view, _ = directory(Identification(status))
        reached.append((await router_view.identify("", "", "")).caller.status)
    assert sorted(reached, key=lambda s: s.value) == sorted(CallerStatus, key=lambda s: s.value)


async def test_no_caller_id_is_passed_on_as_none() -> None:
    router_view, identity = directory(Identification(IdentificationStatus.UNKNOWN))
    await router_view.identify("", "100042", "1234")
    assert identity.asked == [(None, "100042", "1234")]


def test_the_fake_answers_like_the_service() -> None:
    # Keeps FixedIdentity honest if the service's method is renamed or changes its arguments.
    assert signature(FixedIdentity.identify_caller) == signature(IdentityService.identify_caller)
