"""The router's directory over identity: every identification status maps to the routing
status that makes the caller hear the right thing."""

from __future__ import annotations

import pytest

from callrouter.identity.service import Identification, IdentificationStatus
from callrouter.routing.decision import CallerStatus
from callrouter.server.adapters import CALLER_STATUSES, IdentityDirectory


def test_every_identification_status_has_a_routing_status() -> None:
    assert CALLER_STATUSES == {
        IdentificationStatus.CALLER_ID: CallerStatus.RECOGNISED,
        IdentificationStatus.PIN: CallerStatus.PIN_ACCEPTED,
        IdentificationStatus.UNKNOWN: CallerStatus.UNKNOWN,
        IdentificationStatus.WRONG_PIN: CallerStatus.WRONG_PIN,
    }
    assert set(CALLER_STATUSES) == set(IdentificationStatus)


class _Identity:
    def __init__(self, found: Identification) -> None:
        self.found = found
        self.asked: tuple[str | None, str | None, str | None] | None = None

    async def identify_caller(
        self, caller_id: str | None, account_entry: str | None, pin: str | None
    ) -> Identification:
        self.asked = (caller_id, account_entry, pin)
        return self.found


@pytest.mark.parametrize("status", list(IdentificationStatus))
async def test_the_directory_hands_the_router_what_identity_found(
    status: IdentificationStatus,
) -> None:
    identity = _Identity(Identification(status, "12345678", "Marie", 40))
    directory = IdentityDirectory(identity)  # type: ignore[arg-type]
    found = await directory.identify("", "12345678", "1234")
    assert identity.asked == (None, "12345678", "1234")
    assert found.caller.status is CALLER_STATUSES[status]
    assert (found.caller.account_number, found.caller.beneficiary) == ("12345678", "Marie")
    assert found.balance == 40
