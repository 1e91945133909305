"""The account API tried as a new user would, on SQLite and PostgreSQL: sign in, recharge,
see the movement, add a beneficiary, have a coordinator open an incident, see the debit and
the refund; wrong codes get clear errors, then a lockout."""

from __future__ import annotations

from datetime import timedelta

from .conftest import CALLBACK, World


async def test_a_new_holder_recharges_adds_a_beneficiary_and_sees_the_incident_debit(
    any_db_world: World,
) -> None:
    world = any_db_world
    number, web_code = await world.new_holder("Durand SA")
    card = await world.card("FSACSP100C")
    coordinator = await world.coordinator()

    holder = await world.sign_in(number, web_code)
    assert await world.json("GET", "/api/account", holder) == (
        200,
        {"number": number, "holder": "Durand SA", "balance": 0, "held": 0, "available": 0},
    )

    status, recharged = await world.json("POST", "/api/account/recharge", holder, {"code": card})
    assert (status, recharged) == (201, {"pack": "FSACSP100C", "points": 100, "balance": 100})
    status, page = await world.json("GET", "/api/account/movements", holder)
    assert status == 200
    assert [(item["kind"], item["amount"], item["balance_after"]) for item in page["items"]] == [
        ("credit", 100, 100)
    ]
    assert page["next_cursor"] is None

    status, added = await world.json(
        "POST",
        "/api/account/beneficiaries",
        holder,
        {"name": "Paul Martin", "caller_id": "+33 6 12 34 56 78"},
    )
    assert status == 201
    assert (added["name"], added["caller_id"]) == ("Paul Martin", "0612345678")
    status, listed = await world.json("GET", "/api/account/beneficiaries", holder)
    assert [item["caller_id"] for item in listed["items"]] == ["0612345678"]

    world.clock.advance(timedelta(hours=1))
    status, opened = await world.json(
        "POST",
        "/api/incidents",
        coordinator,
        {
            "account_number": number,
            "level": "standard",
            "pass": "4h",
            **CALLBACK,
            "summary": "switch reboots every hour",
            "idempotency_key": "call-0001",
        },
    )
    assert status == 201, opened
    assert opened["debit"] == {"points": 35, "balance": 65}
    incident_id = opened["incident"]["id"]

    assert (await world.json("GET", "/api/account", holder))[1]["balance"] == 65
    status, page = await world.json("GET", "/api/account/movements", holder)
    assert [(item["kind"], item["amount"], item["incident_id"]) for item in page["items"]] == [
        ("debit", -35, incident_id),
        ("credit", 100, None),
    ]
    status, incidents = await world.json("GET", "/api/account/incidents", holder)
    assert [(item["id"], item["price"], item["debited"]) for item in incidents["items"]] == [
        (incident_id, 35, 35)
    ]

    status, reclassified = await world.json(
        "POST",
        f"/api/incidents/{incident_id}/reclassify",
        coordinator,
        {
            "classification": "non-attributable",
            "reason": "faulty unit, sent for expertise",
            "idempotency_key": "reclass-0001",
        },
    )
    assert status == 200, reclassified
    assert reclassified["refund"]["points"] == 35
    status, detail = await world.json("GET", f"/api/account/incidents/{incident_id}", holder)
    assert status == 200
    assert detail["classification"] == "non-attributable"
    assert [event["kind"] for event in detail["history"]] == ["reclassified", "refunded"]
    assert (await world.json("GET", "/api/account", holder))[1]["balance"] == 100


async def test_wrong_web_codes_are_refused_clearly_then_locked(any_db_world: World) -> None:
    world = any_db_world
    number, web_code = await world.new_holder()
    attempt = {"account_number": number, "web_code": "not-my-code-at-all"}

    for _ in range(4):
        status, body = await world.json("POST", "/api/account/sign-in", {}, attempt)
        assert status == 401
        assert body["error"] == {
            "code": "invalid-credentials",
            "message": "wrong account number or access code",
        }

    response = await world.client.post("/api/account/sign-in", json=attempt)
    assert response.status == 429
    assert int(response.headers["Retry-After"]) == 15 * 60
    assert (await response.json())["error"]["code"] == "locked"

    # While locked even the right code is refused: guessing gains nothing.
    right = {"account_number": number, "web_code": web_code}
    response = await world.client.post("/api/account/sign-in", json=right)
    assert response.status == 429
    assert int(response.headers["Retry-After"]) == 15 * 60

    world.clock.advance(timedelta(minutes=15))
    assert "Authorization" in await world.sign_in(number, web_code)
