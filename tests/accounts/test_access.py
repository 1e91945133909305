"""Who may see what: a holder sees only their own account, staff routes need a coordinator's
API key, and stale or forged credentials are refused with 401."""

from __future__ import annotations

from datetime import timedelta

import pytest

from .conftest import CALLBACK, World

STAFF_ROUTES = [
    ("POST", "/api/incidents"),
    ("POST", "/api/incidents/1/reclassify"),
    ("GET", "/api/accounts/12345678"),
]
HOLDER_ROUTES = [
    ("GET", "/api/account"),
    ("GET", "/api/account/movements"),
    ("GET", "/api/account/incidents"),
    ("GET", "/api/account/incidents/1"),
    ("GET", "/api/account/beneficiaries"),
    ("POST", "/api/account/beneficiaries"),
    ("DELETE", "/api/account/beneficiaries/0612345678"),
    ("POST", "/api/account/recharge"),
]


async def test_holder_a_cannot_read_holder_b(world: World) -> None:
    number_a, holder_a = await world.holder("Alpha SARL")
    number_b, holder_b = await world.holder("Beta SAS")
    coordinator = await world.coordinator()
    await world.ledger.credit(number_b, 100, reason="order", idempotency_key="order-b")
    status, opened = await world.json(
        "POST",
        "/api/incidents",
        coordinator,
        {
            "account_number": number_b,
            "level": "standard",
            "pass": "4h",
            **CALLBACK,
            "idempotency_key": "b1",
        },
    )
    assert status == 201
    incident_b = opened["incident"]["id"]

    assert (await world.json("GET", "/api/account", holder_a))[1]["number"] == number_a
    status, body = await world.json("GET", f"/api/account/incidents/{incident_b}", holder_a)
    assert status == 403
    assert body["error"]["message"] == f"incident {incident_b} belongs to another account"
    assert (await world.json("GET", "/api/account/incidents", holder_a))[1]["items"] == []
    assert (await world.json("GET", "/api/account/movements", holder_a))[1]["items"] == []
    status, _ = await world.json("GET", f"/api/accounts/{number_b}", holder_a)
    assert status == 403
    # B still sees it.
    status, _ = await world.json("GET", f"/api/account/incidents/{incident_b}", holder_b)
    assert status == 200


@pytest.mark.parametrize(("method", "path"), STAFF_ROUTES)
async def test_staff_routes_refuse_a_holder_token(world: World, method: str, path: str) -> None:
    _, holder = await world.holder()
    status, body = await world.json(method, path, holder, {})
    assert status == 403
    assert body["error"]["code"] == "forbidden"
    assert "staff with the role coordinator or admin" in body["error"]["message"]


@pytest.mark.parametrize(("method", "path"), HOLDER_ROUTES)
async def test_holder_routes_refuse_a_coordinator_key(world: World, method: str, path: str) -> None:
    coordinator = await world.coordinator()
    status, body = await world.json(method, path, coordinator, {})
    assert status == 403
    assert "account holders" in body["error"]["message"]


@pytest.mark.parametrize(("method", "path"), HOLDER_ROUTES + STAFF_ROUTES)
async def test_every_protected_route_needs_credentials(
    world: World, method: str, path: str
) -> None:
    response = await world.client.request(method, path, json={})
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await response.json())["error"]["code"] == "unauthorized"


async def test_a_token_expires_after_eight_hours(world: World) -> None:
    _, holder = await world.holder()
    world.clock.advance(timedelta(hours=7, minutes=59))
    assert (await world.json("GET", "/api/account", holder))[0] == 200
    world.clock.advance(timedelta(minutes=1))
    status, body = await world.json("GET", "/api/account", holder)
    assert status == 401
    assert body["error"]["message"] == "the session has expired: sign in again"


async def test_a_forged_token_is_refused(world: World) -> None:
    _, holder = await world.holder()
    token = holder["Authorization"].removeprefix("Bearer ")
    payload, signature = token.split(".")
    forged = {"Authorization": f"Bearer {payload}.{signature[::-1]}"}
    status, body = await world.json("GET", "/api/account", forged)
    assert status == 401
    assert body["error"]["message"] == "the bearer token is not valid"


async def test_wrong_and_revoked_api_keys_are_refused(world: World) -> None:
    coordinator = await world.coordinator("Claire")
    assert (await world.json("GET", "/api/accounts/12345678", coordinator))[0] == 404
    tampered = {"Authorization": coordinator["Authorization"][:-2] + "xx"}
    assert (await world.json("GET", "/api/accounts/12345678", tampered))[0] == 401
    await world.operators.revoke("Claire")
    status, body = await world.json("GET", "/api/accounts/12345678", coordinator)
    assert status == 401
    assert body["error"]["message"] == "the API key is not valid or was revoked"


async def test_a_coordinator_looks_up_any_account(world: World) -> None:
    number, holder = await world.holder("Gamma SA")
    await world.json(
        "POST", "/api/account/beneficiaries", holder, {"name": "Zoé", "caller_id": "0611223344"}
    )
    status, account = await world.json("GET", f"/api/accounts/{number}", await world.coordinator())
    assert status == 200
    assert account["holder"] == "Gamma SA"
    assert [item["name"] for item in account["beneficiaries"]] == ["Zoé"]
    # Named by the holder: pending until a call from that number with the account's PIN.
    assert [item["confirmed_at"] for item in account["beneficiaries"]] == [None]
