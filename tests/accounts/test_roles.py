"""Staff roles: every protected route admits only the roles it declares, the supervision
routes are behind credentials, and callers' personal data is cut down to each role's need."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from callrouter.ami.message import Message
from callrouter.http.access import Role

from .conftest import World

ANONYMOUS = "anonymous"
# route -> the roles that get past the credentials (anything but 401/403).
MATRIX: list[tuple[str, str, set[str]]] = [
    ("GET", "/api/queues", {"coordinator", "supervisor", "admin"}),
    ("GET", "/api/calls", {"supervisor", "admin"}),
    ("POST", "/api/incidents", {"coordinator", "admin"}),
    ("POST", "/api/incidents/1/reclassify", {"coordinator", "admin"}),
    ("GET", "/api/accounts/12345678", {"coordinator", "admin"}),
    ("GET", "/api/account", {"holder"}),
    ("POST", "/api/account/recharge", {"holder"}),
    ("GET", "/health", {ANONYMOUS, "holder", "coordinator", "supervisor", "admin"}),
    ("GET", "/api/openapi.json", {ANONYMOUS, "holder", "coordinator", "supervisor", "admin"}),
]
EVERYONE = [ANONYMOUS, *(role.value for role in Role)]


async def _credentials(world: World, who: str) -> dict[str, str]:
    if who == ANONYMOUS:
        return {}
    if who == Role.HOLDER:
        return (await world.holder())[1]
    return await world.staff(Role(who))


@pytest.mark.parametrize(("method", "path", "admitted"), MATRIX)
async def test_each_route_admits_only_its_roles(
    world: World, method: str, path: str, admitted: set[str]
) -> None:
    for who in EVERYONE:
        response = await world.client.request(
            method, path, headers=await _credentials(world, who), json={}
        )
        if who in admitted:
            assert response.status not in (401, 403), (who, await response.text())
        else:
            expected = 401 if who == ANONYMOUS else 403
            assert response.status == expected, (who, await response.text())


async def test_existing_and_new_operators_are_coordinators_by_default(world: World) -> None:
    await world.operators.create("Claire")
    [claire] = await world.operators.list()
    assert claire.role is Role.COORDINATOR


def _wrong_pin_attempt() -> dict[str, Any]:
    return {
        "channel": "PJSIP/trunk-00000007",
        "uniqueid": "1700000000.7",
        "linkedid": "1700000000.7",
        "caller_id": "0612345578",
        "account_number": "55501234",
        "caller_status": "wrong-pin",
        "chosen_pass": None,
        "window": "coordinators",
        "target": "pin-retry",
        "queue": None,
        "queue_priority": None,
        "reason": "wrong-pin, attempt 1 of 3; account 55501234 has 0 points",
        "arrived_at": datetime(2025, 3, 3, 8, 59, 58, tzinfo=UTC).isoformat(),
        "decided_at": datetime(2025, 3, 3, 8, 59, 59, tzinfo=UTC).isoformat(),
        "latency_ms": 1.5,
        "failsafe": False,
    }


async def test_a_supervisor_sees_no_caller_number_nor_typed_account(world: World) -> None:
    world.decisions.append(_wrong_pin_attempt())
    status, body = await world.json("GET", "/api/calls", await world.staff(Role.SUPERVISOR))
    assert status == 200, body
    [decision] = body["recent_decisions"]
    assert decision["caller_id"] == "06 •• •• •5 78"
    assert decision["account_number"] is None
    assert "55501234" not in str(body)
    assert decision["target"] == "pin-retry"
    # Times in the calendar's zone (Paris, +01:00 in March), offset included.
    assert decision["decided_at"] == "2025-03-03T09:59:59+01:00"
    assert body["at"] == "2025-03-03T10:00:00+01:00"


async def test_an_admin_sees_everything(world: World) -> None:
    world.decisions.append(_wrong_pin_attempt())
    status, body = await world.json("GET", "/api/calls", await world.staff(Role.ADMIN))
    assert status == 200, body
    [decision] = body["recent_decisions"]
    assert decision["caller_id"] == "0612345578"
    assert decision["account_number"] == "55501234"


def _caller_waits(world: World) -> None:
    # The live view tracks the queues the PBX lists and the channels that exist.
    world.live.rebuild([Message.event("QueueParams", {"Queue": "coordinators"})], [])
    world.live.apply(
        Message.event("Newchannel", {"Channel": "PJSIP/trunk-00000009", "Uniqueid": "1700000000.9"})
    )
    world.live.apply(
        Message.event(
            "QueueCallerJoin",
            {
                "Queue": "coordinators",
                "Uniqueid": "1700000000.9",
                "Channel": "PJSIP/trunk-00000009",
                "CallerIDNum": "0699887766",
                "CallerIDName": "Claire Lefèvre",
                "Position": "1",
            },
        )
    )


@pytest.mark.parametrize(
    ("role", "caller_id", "caller_name"),
    [
        (Role.COORDINATOR, "06 •• •• •7 66", None),
        (Role.SUPERVISOR, "06 •• •• •7 66", None),
        (Role.ADMIN, "0699887766", "Claire Lefèvre"),
    ],
)
async def test_waiting_callers_are_masked_for_roles_that_do_not_need_them(
    world: World, role: Role, caller_id: str, caller_name: str | None
) -> None:
    _caller_waits(world)
    status, body = await world.json("GET", "/api/queues", await world.staff(role))
    assert status == 200, body
    [queue] = body["queues"]
    [caller] = queue["callers"]
    assert (caller["caller_id"], caller["caller_name"]) == (caller_id, caller_name)
    assert caller["joined_at"] == "2025-03-03T10:00:00+01:00"


@pytest.mark.parametrize(("role", "shown"), [(Role.SUPERVISOR, False), (Role.ADMIN, True)])
async def test_a_number_inside_a_channel_name_is_masked_too(
    world: World, role: Role, shown: bool
) -> None:
    # Local channels (and some trunks) carry the caller's number in their name and exten.
    world.live.apply(
        Message.event(
            "Newchannel",
            {
                "Channel": "Local/0699887766@hotline-00000000;1",
                "Uniqueid": "1700000000.3",
                "CallerIDNum": "0699887766",
                "CallerIDName": "Claire Lefèvre",
                "ChannelStateDesc": "Up",
                "Context": "hotline",
                "Exten": "0699887766",
            },
        )
    )
    status, body = await world.json("GET", "/api/calls", await world.staff(role))
    assert status == 200, body
    [call] = body["live"]
    assert ("0699887766" in str(body)) is shown
    assert ("Claire" in str(body)) is shown
    if not shown:
        assert call["channel"] == "Local/06 •• •• •7 66@hotline-00000000;1"
        assert call["exten"] == "06 •• •• •7 66"
