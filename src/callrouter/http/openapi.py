"""callrouter's HTTP API as an OpenAPI 3.1 document, served at GET /api/openapi.json.

Kept as code next to the routes so a test can hold the two together: every route the app
registers is described here, and nothing is described that the app does not serve.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from callrouter import __version__

Json = dict[str, Any]

_ERROR_CODES = {
    400: "The body or query is not of the documented form; `field` names the culprit.",
    401: "Missing, malformed, forged or expired credentials (WWW-Authenticate: Bearer).",
    402: "The account's balance cannot pay the incident's price: nothing was debited.",
    403: "Valid credentials of the wrong kind (holder vs coordinator) or another account.",
    404: "No such account, incident, beneficiary or recharge code.",
    409: "Conflict: beneficiary already registered, recharge code already used, or an "
    "idempotency key already used for a different request.",
    410: "The recharge code has expired.",
    422: "Refused by the offer's rules (emergency assistance without Pass Prioritaire).",
    429: "Too many failed sign-ins from this client (the same for any account number, real "
    "or not); Retry-After gives the seconds to wait.",
    500: "Unexpected server error; details are logged server-side, never returned.",
    503: "The PBX link is down; callrouter is reconnecting by itself.",
}


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(status: int) -> Json:
    response: Json = {
        "description": _ERROR_CODES[status],
        "content": {"application/json": {"schema": _ref("Error")}},
    }
    if status == 429:
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds until the lock ends.",
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    return response


def _json(schema: Json, description: str) -> Json:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(name: str) -> Json:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _operation(
    summary: str,
    *,
    tag: str,
    ok: tuple[int, Json],
    errors: tuple[int, ...],
    security: str | None,
    body: str | None = None,
    parameters: list[Json] | None = None,
) -> Json:
    status, response = ok
    operation: Json = {
        "summary": summary,
        "tags": [tag],
        "responses": {str(status): response} | {str(code): _error(code) for code in (*errors, 500)},
    }
    operation["security"] = [{security: []}] if security else []
    if body is not None:
        operation["requestBody"] = _body(body)
    if parameters:
        operation["parameters"] = parameters
    return operation


def _path_param(name: str, schema: Json, description: str) -> Json:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def _query_param(name: str, schema: Json, description: str) -> Json:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


_ACCOUNT_NUMBER: Json = {"type": "string", "pattern": "^[0-9]{8}$"}
_INSTANT: Json = {"type": "string", "format": "date-time"}
_INCIDENT_ID = _path_param("incident_id", {"type": "integer", "minimum": 1}, "Incident id.")
_PAGING = [
    _query_param(
        "limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}, "Page size."
    ),
    _query_param("cursor", {"type": "string"}, "`next_cursor` of the previous page."),
]
_HOLDER = "holderToken"
_COORDINATOR = "coordinatorKey"


def _schemas() -> Json:
    nullable_instant: Json = {"type": ["string", "null"], "format": "date-time"}
    incident_entry: Json = {
        "type": "object",
        "required": [
            "id",
            "level",
            "pass",
            "third_party",
            "emergency",
            "classification",
            "price",
            "debited",
            "summary",
            "opened_at",
            "refunded_at",
        ],
        "properties": {
            "id": {"type": "integer"},
            "level": {"enum": ["standard", "advanced"]},
            "pass": {"enum": ["4h", "rdv", "prioritaire"]},
            "third_party": {"type": "boolean"},
            "emergency": {"type": "boolean"},
            "classification": {"enum": ["expert", "non-attributable", "on-site"]},
            "price": {
                "type": ["integer", "null"],
                "description": "Points of the price list; null when on quote.",
            },
            "debited": {"type": "integer", "description": "Points debited at opening."},
            "summary": {"type": "string"},
            "opened_at": _INSTANT,
            "refunded_at": nullable_instant,
        },
    }
    incident = {
        "allOf": [
            _ref("IncidentEntry"),
            {
                "type": "object",
                "required": ["account_number", "opening_call", "history"],
                "properties": {
                    "account_number": _ACCOUNT_NUMBER,
                    "opening_call": {"type": ["string", "null"]},
                    "history": {"type": "array", "items": _ref("IncidentEvent")},
                },
            },
        ]
    }
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {
                            "type": "string",
                            "description": "Stable word: invalid-input, unauthorized, "
                            "invalid-credentials, forbidden, not-found, conflict, locked, "
                            "insufficient-balance, emergency-unavailable, "
                            "idempotency-key-reused, unknown-code, code-already-used, "
                            "code-expired, internal-error...",
                        },
                        "message": {"type": "string", "description": "For people."},
                        "field": {"type": "string", "description": "The input at fault."},
                    },
                }
            },
        },
        "SignIn": {
            "type": "object",
            "additionalProperties": False,
            "required": ["account_number", "web_code"],
            "properties": {
                "account_number": _ACCOUNT_NUMBER,
                "web_code": {"type": "string", "minLength": 1, "maxLength": 128},
            },
        },
        "Token": {
            "type": "object",
            "required": ["token", "expires_at"],
            "properties": {"token": {"type": "string"}, "expires_at": _INSTANT},
        },
        "Account": {
            "type": "object",
            "required": ["number", "holder", "balance"],
            "properties": {
                "number": _ACCOUNT_NUMBER,
                "holder": {"type": "string"},
                "balance": {"type": "integer", "minimum": 0, "description": "Points."},
            },
        },
        "StaffAccount": {
            "allOf": [
                _ref("Account"),
                {
                    "type": "object",
                    "required": ["created_at", "beneficiaries"],
                    "properties": {
                        "created_at": _INSTANT,
                        "beneficiaries": {"type": "array", "items": _ref("Beneficiary")},
                    },
                },
            ]
        },
        "NewBeneficiary": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "caller_id"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "caller_id": {
                    "type": "string",
                    "maxLength": 32,
                    "description": "Phone number, e.g. +33 6 12 34 56 78; stored normalised.",
                },
            },
        },
        "Beneficiary": {
            "type": "object",
            "required": ["name", "caller_id", "added_at", "removed_at", "confirmed_at"],
            "properties": {
                "name": {"type": "string"},
                "caller_id": {"type": "string"},
                "added_at": _INSTANT,
                "removed_at": nullable_instant,
                "confirmed_at": {
                    **nullable_instant,
                    "description": "Null while pending: the number is recognised once a "
                    "call from it is authenticated with the account's PIN.",
                },
            },
        },
        "BeneficiaryList": {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": _ref("Beneficiary")}},
        },
        "Movement": {
            "type": "object",
            "required": [
                "id",
                "kind",
                "amount",
                "balance_after",
                "at",
                "reason",
                "reference",
                "incident_id",
            ],
            "properties": {
                "id": {"type": "integer"},
                "kind": {"enum": ["credit", "debit", "refund", "adjustment"]},
                "amount": {"type": "integer", "description": "Signed points."},
                "balance_after": {"type": "integer", "minimum": 0},
                "at": _INSTANT,
                "reason": {"type": "string"},
                "reference": {"type": "string"},
                "incident_id": {"type": ["integer", "null"]},
            },
        },
        "MovementPage": _page("Movement"),
        "IncidentEntry": incident_entry,
        "IncidentPage": _page("IncidentEntry"),
        "IncidentEvent": {
            "type": "object",
            "required": ["kind", "at", "detail", "call"],
            "properties": {
                "kind": {"enum": ["call", "reclassified", "refunded"]},
                "at": _INSTANT,
                "detail": {"type": "string"},
                "call": {"type": ["string", "null"]},
            },
        },
        "Incident": incident,
        "Recharge": {
            "type": "object",
            "additionalProperties": False,
            "required": ["code"],
            "properties": {
                "code": {"type": "string", "maxLength": 64, "description": "As on the card."}
            },
        },
        "Recharged": {
            "type": "object",
            "required": ["pack", "points", "balance"],
            "properties": {
                "pack": {"type": "string", "description": "Card reference, e.g. FSACSP50C."},
                "points": {"type": "integer"},
                "balance": {"type": "integer"},
            },
        },
        "OpenIncident": {
            "type": "object",
            "additionalProperties": False,
            "required": ["account_number", "level", "pass", "idempotency_key"],
            "properties": {
                "account_number": _ACCOUNT_NUMBER,
                "level": {"enum": ["standard", "advanced"]},
                "pass": {"enum": ["4h", "rdv", "prioritaire"]},
                "third_party": {"type": "boolean", "default": False},
                "emergency": {"type": "boolean", "default": False},
                "classification": {
                    "enum": ["expert", "non-attributable", "on-site"],
                    "default": "expert",
                },
                "summary": {"type": "string", "maxLength": 2000},
                "call": {"type": "string", "maxLength": 64, "description": "Call reference."},
                "idempotency_key": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 100,
                    "description": "Sending the same key again returns the first result.",
                },
            },
        },
        "OpenedIncident": {
            "type": "object",
            "required": ["incident", "debit", "replayed"],
            "properties": {
                "incident": _ref("Incident"),
                "debit": {
                    "type": "object",
                    "required": ["points", "balance"],
                    "properties": {
                        "points": {"type": "integer", "minimum": 0},
                        "balance": {"type": "integer", "minimum": 0},
                    },
                },
                "replayed": {"type": "boolean"},
            },
        },
        "Reclassify": {
            "type": "object",
            "additionalProperties": False,
            "required": ["classification", "idempotency_key"],
            "properties": {
                "classification": {
                    "enum": ["non-attributable"],
                    "description": "Non-attributable assistance is free: refunded in full.",
                },
                "reason": {"type": "string", "maxLength": 500},
                "idempotency_key": {"type": "string", "minLength": 1, "maxLength": 100},
            },
        },
        "Reclassified": {
            "type": "object",
            "required": ["incident", "refund", "replayed"],
            "properties": {
                "incident": _ref("Incident"),
                "refund": {
                    "type": "object",
                    "required": ["points", "at"],
                    "properties": {"points": {"type": "integer"}, "at": _INSTANT},
                },
                "replayed": {"type": "boolean"},
            },
        },
    }


def _supervisor_schemas() -> Json:
    loose_object = {"type": "object", "additionalProperties": True}
    return {
        "Health": {
            "type": "object",
            "required": ["status", "ami"],
            "properties": {
                "status": {"enum": ["ok", "degraded"]},
                "ami": {"enum": ["up", "down"]},
            },
        },
        "LiveQueues": {
            "type": "object",
            "required": ["at", "queues"],
            "properties": {
                "at": _INSTANT,
                "queues": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "members", "callers", "completed", "abandoned"],
                        "properties": {
                            "name": {"type": "string"},
                            "members": {"type": "array", "items": loose_object},
                            "callers": {"type": "array", "items": loose_object},
                            "completed": {"type": "integer"},
                            "abandoned": {"type": "integer"},
                        },
                    },
                },
            },
        },
        "LiveCalls": {
            "type": "object",
            "required": ["at", "live", "recent_decisions"],
            "properties": {
                "at": _INSTANT,
                "live": {"type": "array", "items": loose_object},
                "recent_decisions": {"type": "array", "items": loose_object},
            },
        },
    }


def _page(item: str) -> Json:
    return {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` for the next (older) page; null at the end.",
            },
        },
    }


def _paths() -> Json:
    return {
        "/api/account/sign-in": {
            "post": _operation(
                "Sign in with the account number and the web access code",
                tag="account holder",
                security=None,
                body="SignIn",
                ok=(200, _json(_ref("Token"), "A bearer token, valid 8 hours.")),
                errors=(400, 401, 429),
            )
        },
        "/api/account": {
            "get": _operation(
                "The signed-in holder's account and balance",
                ok=(200, _json(_ref("Account"), "The account.")),
                errors=(401, 403, 404),
                tag="account holder",
                security=_HOLDER,
            )
        },
        "/api/account/movements": {
            "get": _operation(
                "Movements of the account, newest first",
                parameters=[
                    _query_param(
                        "kind",
                        {"enum": ["credit", "debit", "refund", "adjustment"]},
                        "Only this kind.",
                    ),
                    _query_param("from", _INSTANT, "From this instant (inclusive), with offset."),
                    _query_param("to", _INSTANT, "Until this instant (exclusive), with offset."),
                    *_PAGING,
                ],
                ok=(200, _json(_ref("MovementPage"), "One page of movements.")),
                errors=(400, 401, 403, 404),
                tag="account holder",
                security=_HOLDER,
            )
        },
        "/api/account/incidents": {
            "get": _operation(
                "Incidents of the account, newest first",
                parameters=_PAGING,
                ok=(200, _json(_ref("IncidentPage"), "One page of incidents.")),
                errors=(400, 401, 403, 404),
                tag="account holder",
                security=_HOLDER,
            )
        },
        "/api/account/incidents/{incident_id}": {
            "get": _operation(
                "One incident of the account, with its history",
                parameters=[_INCIDENT_ID],
                ok=(200, _json(_ref("Incident"), "The incident.")),
                errors=(401, 403, 404),
                tag="account holder",
                security=_HOLDER,
            )
        },
        "/api/account/beneficiaries": {
            "get": _operation(
                "Active beneficiaries (ayants-droit) of the account",
                ok=(200, _json(_ref("BeneficiaryList"), "The beneficiaries.")),
                errors=(401, 403, 404),
                tag="account holder",
                security=_HOLDER,
            ),
            "post": _operation(
                "Let a caller id use the account",
                body="NewBeneficiary",
                ok=(201, _json(_ref("Beneficiary"), "The beneficiary added.")),
                errors=(400, 401, 403, 404, 409),
                tag="account holder",
                security=_HOLDER,
            ),
        },
        "/api/account/beneficiaries/{caller_id}": {
            "delete": _operation(
                "Stop recognising a beneficiary's caller id",
                parameters=[
                    _path_param("caller_id", {"type": "string", "maxLength": 32}, "Phone number.")
                ],
                ok=(200, _json(_ref("Beneficiary"), "The beneficiary removed.")),
                errors=(400, 401, 403, 404),
                tag="account holder",
                security=_HOLDER,
            )
        },
        "/api/account/recharge": {
            "post": _operation(
                "Redeem a pack card's one-time recharge code",
                body="Recharge",
                ok=(201, _json(_ref("Recharged"), "The points credited.")),
                errors=(400, 401, 403, 404, 409, 410),
                tag="account holder",
                security=_HOLDER,
            )
        },
        "/api/incidents": {
            "post": _operation(
                "Open an incident on an account and debit its price",
                body="OpenIncident",
                ok=(
                    201,
                    _json(
                        _ref("OpenedIncident"),
                        "Opened and debited (200 with replayed=true for a repeated key).",
                    ),
                ),
                errors=(400, 401, 402, 403, 404, 409, 422),
                tag="coordinator",
                security=_COORDINATOR,
            )
        },
        "/api/incidents/{incident_id}/reclassify": {
            "post": _operation(
                "Reclassify an incident non-attributable, refunding it in full once",
                parameters=[_INCIDENT_ID],
                body="Reclassify",
                ok=(200, _json(_ref("Reclassified"), "Reclassified and refunded.")),
                errors=(400, 401, 403, 404, 409),
                tag="coordinator",
                security=_COORDINATOR,
            )
        },
        "/api/accounts/{number}": {
            "get": _operation(
                "Any account, with its locks and beneficiaries",
                parameters=[_path_param("number", _ACCOUNT_NUMBER, "Account number.")],
                ok=(200, _json(_ref("StaffAccount"), "The account.")),
                errors=(401, 403, 404),
                tag="coordinator",
                security=_COORDINATOR,
            )
        },
        "/api/openapi.json": {
            "get": _operation(
                "This document",
                tag="meta",
                security=None,
                ok=(200, _json({"type": "object"}, "The OpenAPI 3.1 document.")),
                errors=(),
            )
        },
        "/health": {
            "get": _operation(
                "Whether the PBX link is up (503 while it is down)",
                tag="supervisor",
                security=None,
                ok=(200, _json(_ref("Health"), "The PBX link is up.")),
                errors=(503,),
            )
        },
        "/api/queues": {
            "get": _operation(
                "Live queues: callers waiting (position, priority, waiting time) and members",
                tag="supervisor",
                security=None,
                ok=(200, _json(_ref("LiveQueues"), "The queues as the PBX reports them now.")),
                errors=(),
            )
        },
        "/api/calls": {
            "get": _operation(
                "Live calls and the latest routing decisions",
                tag="supervisor",
                security=None,
                ok=(200, _json(_ref("LiveCalls"), "Live calls, newest decisions first.")),
                errors=(400,),
                parameters=[
                    _query_param(
                        "recent",
                        {"type": "integer", "minimum": 0, "maximum": 500, "default": 20},
                        "How many of the latest routing decisions to include.",
                    )
                ],
            )
        },
    }


def api_document() -> Json:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "callrouter HTTP API",
            "version": __version__,
            "description": (
                "Points accounts of the support hotline (seeds/000): holders sign in with "
                "their account number and web access code, then read their balance, "
                "movements and incidents, manage beneficiaries and redeem recharge codes. "
                "Coordinators, with an API key from `callrouter operator create`, open and "
                "reclassify incidents. Every error is JSON: "
                '{"error": {"code", "message", "field"?}}. Unknown body fields and query '
                "parameters are refused (400). Insufficient balance is 402; a locked "
                "sign-in is 429 with Retry-After."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": _paths(),
        "components": {
            "schemas": _schemas() | _supervisor_schemas(),
            "securitySchemes": {
                _HOLDER: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Token returned by POST /api/account/sign-in.",
                },
                _COORDINATOR: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "crk_<key id>_<secret>",
                    "description": "API key printed once by `callrouter operator create`.",
                },
            },
        },
    }


async def _serve_document(request: web.Request) -> web.Response:
    return web.json_response(api_document())


def setup_openapi_route(app: web.Application) -> None:
    app.router.add_get("/api/openapi.json", _serve_document, allow_head=False)
