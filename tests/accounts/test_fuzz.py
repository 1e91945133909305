"""Every route of the generated OpenAPI document fuzzed with schemathesis, as each role and
anonymously, against the app on a live test server (port 0): no 500, no status or body
outside the document, and no protected route answered to a role it does not admit.

Bounded (a few examples per route, role and mode) so that CI stays fast.
"""

from __future__ import annotations

import asyncio
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from callrouter.ami.message import Message
from callrouter.http.access import Role
from callrouter.http.endpoint import ENDPOINTS
from callrouter.http.openapi import api_document

from .conftest import CALLBACK, World

EXAMPLES = 4
ANONYMOUS = "anonymous"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


async def _seeded(world: World) -> dict[str, dict[str, str]]:
    """Credentials of every role, and data for the routes to show."""
    number, holder = await world.holder("Durand SA")
    await world.ledger.credit(number, 500, reason="order", idempotency_key="fuzz-order")
    coordinator = await world.coordinator()
    status, _ = await world.json(
        "POST",
        "/api/incidents",
        coordinator,
        {
            "account_number": number,
            "level": "standard",
            "pass": "4h",
            **CALLBACK,
            "idempotency_key": "f1",
        },
    )
    assert status == 201
    await world.json(
        "POST", "/api/account/beneficiaries", holder, {"name": "Zoé", "caller_id": "0611223344"}
    )
    admin = await world.staff(Role.ADMIN)
    new_expert = {"name": "Léa", "interface": "PJSIP/expert7", "domains": ["knx"]}
    assert (await world.json("POST", "/api/experts", admin, new_expert))[0] == 201
    booking = {
        "account_number": number,
        "domain": "knx",
        "level": "standard",
        "start": "2025-03-10T10:00:00+01:00",
        "number_to_call": "0611223344",
        "idempotency_key": "f2",
    }
    assert (await world.json("POST", "/api/appointments", coordinator, booking))[0] == 201
    world.live.apply(
        Message.event(
            "QueueCallerJoin",
            {
                "Queue": "coordinators",
                "Uniqueid": "1.1",
                "Channel": "PJSIP/trunk-1",
                "CallerIDNum": "0611223344",
                "CallerIDName": "Zoé",
                "Position": "1",
            },
        )
    )
    world.decisions.append(
        {
            "channel": "PJSIP/trunk-1",
            "uniqueid": "1.1",
            "linkedid": "1.1",
            "caller_id": "0611223344",
            "account_number": number,
            "caller_status": "caller-id",
            "chosen_pass": "4h",
            "window": "coordinators",
            "target": "coordinators-queue",
            "queue": "coordinators",
            "queue_priority": 0,
            "reason": "daytime",
            "arrived_at": None,
            "decided_at": "2025-03-03T08:59:59+00:00",
            "latency_ms": 1.0,
            "failsafe": False,
        }
    )
    # An on-call roster, so the on-call routes answer with people in them.
    for name, contact in (("Emma", "0611223344"), ("Hugo", "PJSIP/hugo")):
        await world.json("POST", "/api/oncall/people", admin, {"name": name, "contact": contact})
    status, _ = await world.json(
        "PUT",
        "/api/oncall/rotations/primary",
        admin,
        {
            "people": ["Emma", "Hugo"],
            "shift_days": 1,
            "handoff_at": "18:00",
            "first_handoff": "2025-03-03",
        },
    )
    assert status == 200
    return {
        ANONYMOUS: {},
        Role.HOLDER: holder,
        Role.COORDINATOR: coordinator,
        Role.SUPERVISOR: await world.staff(Role.SUPERVISOR),
        Role.ADMIN: admin,
    }


def _fuzz(
    document: dict[str, Any],
    base_url: str,
    credentials: dict[str, dict[str, str]],
    admitted: dict[tuple[str, str], frozenset[Role] | None],
) -> int:
    schema = schemathesis.openapi.from_dict(document)
    sent = 0
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            roles = admitted[(operation.method.upper(), operation.path)]
            for who, headers in credentials.items():
                sent += _fuzz_operation(operation, roles, who, headers, base_url, session)
    return sent


def _fuzz_operation(
    operation: Any,
    roles: frozenset[Role] | None,
    who: str,
    headers: dict[str, str],
    base_url: str,
    session: requests.Session,
) -> int:
    sent = 0
    strategies = [operation.as_strategy(mode) for mode in GenerationMode]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def run(case: schemathesis.Case) -> None:
        nonlocal sent
        response = case.call(base_url=base_url, headers=dict(headers), session=session, timeout=10)
        sent += 1
        label = f"{who} {case.method} {case.formatted_path}"
        if roles is not None:
            # A negative case may replace or drop the credentials: then it is a stranger.
            sent_as_given = response.request.headers.get("Authorization") == headers.get(
                "Authorization"
            )
            if not sent_as_given or who == ANONYMOUS:
                assert response.status_code == 401, (label, response.text)
            elif who not in roles:
                assert response.status_code == 403, (label, response.text)
        case.validate_response(response, checks=CHECKS, headers=dict(headers))

    run()
    return sent


async def test_every_route_as_every_role(world: World) -> None:
    credentials = await _seeded(world)
    endpoints = world.client.app[ENDPOINTS]
    admitted = {(endpoint.method, endpoint.path): endpoint.roles for endpoint in endpoints}
    base_url = str(world.client.make_url("")).rstrip("/")
    sent = await asyncio.to_thread(_fuzz, api_document(endpoints), base_url, credentials, admitted)
    # Routes without inputs have a single example; the others get EXAMPLES each.
    assert sent >= len(admitted) * len(credentials)
