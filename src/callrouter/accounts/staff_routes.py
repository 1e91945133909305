"""Coordinator routes: open and reclassify incidents, look up any account.

A coordinator's idempotency key is namespaced by their API key id before it reaches the
ledger, so two coordinators who both pick "1" never collide, nor collide with the keys the
router derives from calls.
"""

from __future__ import annotations

import enum

from aiohttp import web

from callrouter.accounts import views
from callrouter.accounts.context import ACCOUNT_API
from callrouter.accounts.operators import OperatorView
from callrouter.accounts.problems import reported
from callrouter.accounts.validation import Body, digits, path_id, read_body
from callrouter.http.errors import ApiError
from callrouter.identity.models import ACCOUNT_NUMBER_LENGTH
from callrouter.ledger.prices import AssistanceLevel, Classification
from callrouter.passes import Pass

IDEMPOTENCY_KEY_MAX_LENGTH = 100
SUMMARY_MAX_LENGTH = 2000
REASON_MAX_LENGTH = 500
CALL_MAX_LENGTH = 64


async def open_incident(request: web.Request) -> web.Response:
    api = request.app[ACCOUNT_API]
    operator = await api.auth.coordinator(request)
    body = await read_body(
        request,
        (
            "account_number",
            "level",
            "pass",
            "third_party",
            "emergency",
            "classification",
            "summary",
            "call",
            "idempotency_key",
        ),
    )
    number = _account_number(body)
    level = body.choice("level", AssistanceLevel)
    pass_ = body.choice("pass", Pass)
    third_party = body.boolean("third_party", default=False)
    emergency = body.boolean("emergency", default=False)
    classification = (
        body.choice("classification", Classification)
        if body.has("classification")
        else Classification.EXPERT
    )
    summary = body.optional_text("summary", max_length=SUMMARY_MAX_LENGTH) or ""
    call = body.optional_text("call", max_length=CALL_MAX_LENGTH)
    key = _ledger_key(operator, body)
    with reported(api.clock):
        opened = await api.ledger.open_incident(
            number,
            level=level,
            pass_=pass_,
            idempotency_key=key,
            third_party=third_party,
            emergency=emergency,
            classification=classification,
            summary=summary,
            call=call,
        )
        view = await api.ledger.incident(opened.incident_id)
    return web.json_response(
        {
            "incident": views.incident(view),
            "debit": {"points": opened.debited, "balance": opened.balance},
            "replayed": opened.replayed,
        },
        status=200 if opened.replayed else 201,
    )


async def reclassify(request: web.Request) -> web.Response:
    api = request.app[ACCOUNT_API]
    operator = await api.auth.coordinator(request)
    incident_id = path_id(request, "incident_id", "incident")
    body = await read_body(request, ("classification", "reason", "idempotency_key"))
    body.choice("classification", Reclassification)
    reason = body.optional_text("reason", max_length=REASON_MAX_LENGTH)
    key = _ledger_key(operator, body)
    why = f"by {operator.name}" + (f": {reason}" if reason else "")
    with reported(api.clock):
        refund = await api.ledger.reclassify_non_attributable(incident_id, why, key)
        view = await api.ledger.incident(incident_id)
    return web.json_response(
        {
            "incident": views.incident(view),
            "refund": {"points": refund.points, "at": views.instant(refund.refunded_at)},
            "replayed": refund.replayed,
        }
    )


async def account(request: web.Request) -> web.Response:
    api = request.app[ACCOUNT_API]
    await api.auth.coordinator(request)
    number = request.match_info["number"]
    if len(number) != ACCOUNT_NUMBER_LENGTH or not (number.isascii() and number.isdigit()):
        raise ApiError(404, "not-found", f"no account numbered {number!r}")
    with reported(api.clock):
        summary = await api.identity.get_account(number)
        beneficiaries = await api.identity.list_beneficiaries(number)
    return web.json_response(views.staff_account(summary, beneficiaries))


class Reclassification(enum.StrEnum):
    """What a coordinator may reclassify an incident as: the ledger prices only the move to
    non-attributable ("Assistance non imputable: Offert"), refunded in full, once."""

    NON_ATTRIBUTABLE = Classification.NON_ATTRIBUTABLE.value


def _account_number(body: Body) -> str:
    return digits(
        "account_number",
        body.text("account_number", max_length=ACCOUNT_NUMBER_LENGTH),
        length=ACCOUNT_NUMBER_LENGTH,
    )


def _ledger_key(operator: OperatorView, body: Body) -> str:
    key = body.text("idempotency_key", max_length=IDEMPOTENCY_KEY_MAX_LENGTH)
    return f"api:{operator.key_id}:{key}"
