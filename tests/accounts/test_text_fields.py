"""Control and bidi characters in text fields are refused at the edge with the field named
(a NUL was a 500 on PostgreSQL; a right-to-left override made a name read backwards)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import CALLBACK, World

NUL = "\x00"
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE
BAD = [
    pytest.param(NUL, id="nul"),
    pytest.param("\x1b[31m", id="escape"),
    pytest.param("\x85", id="c1-next-line"),
    pytest.param(RLO, id="rlo"),
    pytest.param("\u2066", id="lri"),
]


async def _funded_incident(world: World) -> tuple[str, dict[str, str], int]:
    number, _ = await world.new_holder("Durand SA")
    await world.ledger.credit(number, 500, reason="order", idempotency_key=f"order-{number}")
    coordinator = await world.coordinator()
    status, opened = await world.json(
        "POST",
        "/api/incidents",
        coordinator,
        {
            "account_number": number,
            "level": "standard",
            "pass": "4h",
            **CALLBACK,
            "idempotency_key": "t1",
        },
    )
    assert status == 201, opened
    return number, coordinator, opened["incident"]["id"]


def _refused(status: int, body: Any, field: str) -> None:
    assert status == 400, body
    assert body["error"]["code"] == "invalid-input"
    assert body["error"]["field"] == field
    assert body["error"]["message"].startswith(f"{field} must not contain")


@pytest.mark.parametrize("bad", BAD)
async def test_a_beneficiary_name(any_db_world: World, bad: str) -> None:
    _, holder = await any_db_world.holder()
    body = {"name": f"Zo{bad}é", "caller_id": "0611223344"}
    status, answer = await any_db_world.json("POST", "/api/account/beneficiaries", holder, body)
    _refused(status, answer, "name")
    _, listed = await any_db_world.json("GET", "/api/account/beneficiaries", holder)
    assert listed["items"] == []


@pytest.mark.parametrize("bad", BAD)
async def test_an_incident_summary_and_idempotency_key(any_db_world: World, bad: str) -> None:
    number, coordinator, _ = await _funded_incident(any_db_world)
    opening = {"account_number": number, "level": "standard", "pass": "4h", **CALLBACK}
    status, answer = await any_db_world.json(
        "POST",
        "/api/incidents",
        coordinator,
        opening | {"idempotency_key": "t2", "summary": f"écran {bad}noir"},
    )
    _refused(status, answer, "summary")
    status, answer = await any_db_world.json(
        "POST", "/api/incidents", coordinator, opening | {"idempotency_key": f"t{bad}3"}
    )
    _refused(status, answer, "idempotency_key")


@pytest.mark.parametrize("bad", BAD)
async def test_a_reclassification_reason(any_db_world: World, bad: str) -> None:
    _, coordinator, incident_id = await _funded_incident(any_db_world)
    body = {
        "classification": "non-attributable",
        "reason": f"défaut {bad}qualité",
        "idempotency_key": "r1",
    }
    path = f"/api/incidents/{incident_id}/reclassify"
    status, answer = await any_db_world.json("POST", path, coordinator, body)
    _refused(status, answer, "reason")


async def test_harmless_text_is_kept_trimmed(any_db_world: World) -> None:
    number, holder = await any_db_world.holder()
    # Arabic, a joined emoji and a left-to-right mark are people's text, not tricks.
    for name in ("  Zoé Durand  ", "مريم بن علي", "Léa 👩‍🔧", "Ali \u200eBen"):
        caller_id = f"06112233{len(name):02d}"
        status, added = await any_db_world.json(
            "POST", "/api/account/beneficiaries", holder, {"name": name, "caller_id": caller_id}
        )
        assert status == 201, added
        assert added["name"] == name.strip()
    await any_db_world.ledger.credit(number, 500, reason="order", idempotency_key="o1")
    status, opened = await any_db_world.json(
        "POST",
        "/api/incidents",
        await any_db_world.coordinator(),
        {
            "account_number": number,
            "level": "standard",
            "pass": "4h",
            **CALLBACK,
            "idempotency_key": "k1",
            "summary": "Écran noir\r\n\tdepuis ce matin  ",
        },
    )
    assert status == 201, opened
    assert opened["incident"]["summary"] == "Écran noir\n\tdepuis ce matin"
