"""What the offer's rules refuse, as the API reports it: conflicts, unknowns, missing points."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .conftest import World


async def test_a_recharge_code_credits_once(world: World) -> None:
    _, holder = await world.holder()
    card = await world.card("FSACSP50C")
    assert (await world.json("POST", "/api/account/recharge", holder, {"code": card}))[0] == 201
    status, answer = await world.json("POST", "/api/account/recharge", holder, {"code": card})
    assert status == 409
    assert answer["error"]["code"] == "code-already-used"
    assert (await world.json("GET", "/api/account", holder))[1]["balance"] == 50


async def test_a_code_used_by_another_account_is_a_conflict(world: World) -> None:
    _, first = await world.holder("Alpha")
    _, second = await world.holder("Beta")
    card = await world.card()
    await world.json("POST", "/api/account/recharge", first, {"code": card})
    status, answer = await world.json("POST", "/api/account/recharge", second, {"code": card})
    assert status == 409
    assert answer["error"]["message"].startswith("this recharge code was already used on")
    assert (await world.json("GET", "/api/account", second))[1]["balance"] == 0


async def test_unknown_and_expired_codes(world: World) -> None:
    _, holder = await world.holder()
    status, answer = await world.json(
        "POST", "/api/account/recharge", holder, {"code": "0000-0000-0000-0000-0000-0000-0000"}
    )
    assert (status, answer["error"]["code"]) == (404, "unknown-code")
    card = await world.card()
    world.clock.advance(timedelta(days=366))
    _, holder = await world.holder("Late SA")
    status, answer = await world.json("POST", "/api/account/recharge", holder, {"code": card})
    assert (status, answer["error"]["code"]) == (410, "code-expired")


async def test_beneficiary_conflicts_and_removal(world: World) -> None:
    _, holder = await world.holder()
    paul = {"name": "Paul", "caller_id": "06 12 34 56 78"}
    assert (await world.json("POST", "/api/account/beneficiaries", holder, paul))[0] == 201
    status, answer = await world.json("POST", "/api/account/beneficiaries", holder, paul)
    assert (status, answer["error"]["code"]) == (409, "conflict")

    status, removed = await world.json("DELETE", "/api/account/beneficiaries/0612345678", holder)
    assert status == 200
    assert removed["removed_at"] is not None
    assert (await world.json("GET", "/api/account/beneficiaries", holder))[1]["items"] == []
    status, answer = await world.json("DELETE", "/api/account/beneficiaries/0612345678", holder)
    assert (status, answer["error"]["code"]) == (404, "not-found")


def _incident(number: str, key: str, **change: Any) -> dict[str, Any]:
    return (
        {"account_number": number, "level": "advanced", "pass": "prioritaire"}
        | {"idempotency_key": key}
        | change
    )


async def test_an_incident_the_balance_cannot_pay_is_not_opened(world: World) -> None:
    number, holder = await world.holder()
    await world.ledger.credit(number, 100, reason="order", idempotency_key="o1")
    status, answer = await world.json(
        "POST", "/api/incidents", await world.coordinator(), _incident(number, "i1")
    )
    assert status == 402
    assert answer["error"] == {
        "code": "insufficient-balance",
        "message": f"account {number} has 100 points, 150 are needed: the incident was not opened",
    }
    assert (await world.json("GET", "/api/account/incidents", holder))[1]["items"] == []


async def test_emergency_needs_the_priority_pass(world: World) -> None:
    number, _ = await world.holder()
    body = _incident(number, "e1", **{"pass": "4h", "emergency": True})
    status, answer = await world.json("POST", "/api/incidents", await world.coordinator(), body)
    assert (status, answer["error"]["field"]) == (422, "emergency")
    assert "only the Prioritaire pass" in answer["error"]["message"]


async def test_the_same_idempotency_key_opens_and_debits_once(world: World) -> None:
    number, holder = await world.holder()
    await world.ledger.credit(number, 500, reason="order", idempotency_key="o1")
    coordinator = await world.coordinator()
    first = await world.json("POST", "/api/incidents", coordinator, _incident(number, "same"))
    again = await world.json("POST", "/api/incidents", coordinator, _incident(number, "same"))
    assert (first[0], again[0]) == (201, 200)
    assert again[1]["replayed"] is True
    assert again[1]["incident"]["id"] == first[1]["incident"]["id"]
    assert (await world.json("GET", "/api/account", holder))[1]["balance"] == 350


async def test_a_key_reused_for_another_account_is_a_conflict(world: World) -> None:
    first, _ = await world.holder("Alpha")
    second, _ = await world.holder("Beta")
    for number in (first, second):
        await world.ledger.credit(number, 500, reason="order", idempotency_key=f"o-{number}")
    coordinator = await world.coordinator()
    await world.json("POST", "/api/incidents", coordinator, _incident(first, "k"))
    status, answer = await world.json("POST", "/api/incidents", coordinator, _incident(second, "k"))
    assert (status, answer["error"]["field"]) == (409, "idempotency_key")


async def test_a_key_reused_for_a_different_request_is_a_conflict(any_db_world: World) -> None:
    world = any_db_world
    number, holder = await world.holder()
    await world.ledger.credit(number, 500, reason="order", idempotency_key="o1")
    coordinator = await world.coordinator()
    await world.json("POST", "/api/incidents", coordinator, _incident(number, "k"))
    status, answer = await world.json(
        "POST", "/api/incidents", coordinator, _incident(number, "k", level="standard")
    )
    assert (status, answer["error"]["code"]) == (409, "idempotency-key-reused")
    assert answer["error"]["field"] == "idempotency_key"
    assert (await world.json("GET", "/api/account", holder))[1]["balance"] == 350


async def test_unknown_account_and_incident(world: World) -> None:
    coordinator = await world.coordinator()
    status, answer = await world.json(
        "POST", "/api/incidents", coordinator, _incident("99999999", "u")
    )
    assert (status, answer["error"]["message"]) == (404, "no account numbered '99999999'")
    body = {"classification": "non-attributable", "idempotency_key": "r"}
    status, answer = await world.json("POST", "/api/incidents/999/reclassify", coordinator, body)
    assert (status, answer["error"]["message"]) == (404, "no incident numbered 999")
