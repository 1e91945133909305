"""Bad input never reaches the database: 400 with the field named and what was expected."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import World


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"web_code": "abcdefghijk"}, "account_number", "account_number is required"),
        ({"account_number": 12345678, "web_code": "x"}, "account_number", "must be a string"),
        ({"account_number": "1234", "web_code": "x"}, "account_number", "must be 8 digits"),
        ({"account_number": "12345678"}, "web_code", "web_code is required"),
        ({"account_number": "12345678", "web_code": "x" * 129}, "web_code", "at most 128"),
        ({"account_number": "12345678", "web_code": "x", "pin": "1"}, "pin", "unknown field"),
    ],
)
async def test_sign_in_input(world: World, body: Any, field: str, message: str) -> None:
    status, answer = await world.json("POST", "/api/account/sign-in", {}, body)
    assert status == 400
    assert answer["error"]["field"] == field
    assert message in answer["error"]["message"]


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"\xff\xfe", b""])
async def test_a_body_that_is_not_a_json_object(world: World, raw: bytes) -> None:
    response = await world.client.post("/api/account/sign-in", data=raw)
    assert response.status == 400
    assert (await response.json())["error"]["message"] == "the request body must be a JSON object"


async def test_an_oversize_body_is_refused(world: World) -> None:
    body = {"account_number": "12345678", "web_code": "x" * 20_000}
    status, answer = await world.json("POST", "/api/account/sign-in", {}, body)
    assert status == 400
    assert "larger than" in answer["error"]["message"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("kind=bonus", "kind", "kind must be one of: credit, debit, refund, adjustment"),
        ("from=yesterday", "from", "ISO 8601"),
        ("from=2025-13-01T00:00:00Z", "from", "ISO 8601"),
        ("to=2025-03-01T00:00:00", "to", "time zone"),
        ("from=2025-03-02T00:00:00Z&to=2025-03-01T00:00:00Z", "to", "later than from"),
        ("limit=0", "limit", "from 1 to 200"),
        ("limit=201", "limit", "from 1 to 200"),
        ("limit=ten", "limit", "from 1 to 200"),
        ("cursor=%%%", "cursor", "next_cursor"),
        ("cursor=YWJj", "cursor", "next_cursor"),
        ("page=2", "page", "unknown field"),
    ],
)
async def test_movement_query(world: World, query: str, field: str, message: str) -> None:
    _, holder = await world.holder()
    status, answer = await world.json("GET", f"/api/account/movements?{query}", holder)
    assert status == 400, answer
    assert answer["error"]["field"] == field
    assert message in answer["error"]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"caller_id": "0612345678"}, "name"),
        ({"name": "", "caller_id": "0612345678"}, "name"),
        ({"name": "x" * 201, "caller_id": "0612345678"}, "name"),
        ({"name": "Paul", "caller_id": "anonymous"}, "caller_id"),
        ({"name": "Paul", "caller_id": "0" * 33}, "caller_id"),
        ({"name": "Paul", "caller_id": 612345678}, "caller_id"),
    ],
)
async def test_beneficiary_input(world: World, body: Any, field: str) -> None:
    _, holder = await world.holder()
    status, answer = await world.json("POST", "/api/account/beneficiaries", holder, body)
    assert status == 400
    assert answer["error"]["field"] == field


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"level": "expert"}, "level", "level must be one of: standard, advanced"),
        ({"pass": "4H"}, "pass", "pass must be one of: 4h, rdv, prioritaire"),
        ({"third_party": "yes"}, "third_party", "true or false"),
        ({"emergency": 1}, "emergency", "true or false"),
        ({"classification": "free"}, "classification", "expert, non-attributable, on-site"),
        ({"idempotency_key": "k" * 101}, "idempotency_key", "at most 100"),
        ({"idempotency_key": ""}, "idempotency_key", "must not be empty"),
        ({"account_number": "1234567a"}, "account_number", "8 digits"),
        ({"summary": "s" * 2001}, "summary", "at most 2000"),
        ({"price": 0}, "price", "unknown field"),
    ],
)
async def test_open_incident_input(
    world: World, change: dict[str, Any], field: str, message: str
) -> None:
    body = {"account_number": "12345678", "level": "standard", "pass": "4h"}
    body |= {"idempotency_key": "k1"} | change
    status, answer = await world.json("POST", "/api/incidents", await world.coordinator(), body)
    assert status == 400
    assert answer["error"]["field"] == field
    assert message in answer["error"]["message"]


async def test_reclassification_only_as_non_attributable(world: World) -> None:
    body = {"classification": "on-site", "idempotency_key": "r1"}
    coordinator = await world.coordinator()
    status, answer = await world.json("POST", "/api/incidents/1/reclassify", coordinator, body)
    assert status == 400
    assert answer["error"]["field"] == "classification"
    assert answer["error"]["message"] == "classification must be one of: non-attributable"


async def test_recharge_code_too_long(world: World) -> None:
    _, holder = await world.holder()
    status, answer = await world.json("POST", "/api/account/recharge", holder, {"code": "7" * 65})
    assert status == 400
    assert answer["error"]["field"] == "code"


async def test_an_incident_id_that_is_not_a_number_is_not_found(world: World) -> None:
    _, holder = await world.holder()
    status, answer = await world.json("GET", "/api/account/incidents/abc", holder)
    assert status == 404
    assert answer["error"]["field"] == "incident_id"
    assert "incident_id must be a whole number" in answer["error"]["message"]
