"""callrouter's HTTP API as an OpenAPI 3.1 document, generated from the declared routes.

Every route the app serves is an `Endpoint`; its models give the schemas, its path and
query models the parameters, its roles the security, and what it reads the errors it may
answer. Nothing here is written per route. The document is public: it describes the API,
holds no data, and clients and the fuzz tests read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, RootModel
from pydantic.json_schema import models_json_schema

from callrouter import __version__
from callrouter.http.access import STAFF_ROLES, Role
from callrouter.http.endpoint import ENDPOINTS, Call, Endpoint, Endpoints
from callrouter.http.errors import ErrorBody

Json = dict[str, Any]
Mode = Literal["validation", "serialization"]

_REF = "#/components/schemas/{model}"
_HOLDER = "holderToken"
_STAFF = "staffKey"
_ERROR_CODES = {
    400: "The body or query is not of the documented form; `field` names the culprit.",
    401: "Missing, malformed, forged, expired or revoked credentials (WWW-Authenticate).",
    402: "The account's balance cannot pay the incident's price: nothing was debited.",
    403: "Valid credentials of a role this route is not for, or another holder's data.",
    404: "No such account, incident, beneficiary, recharge code, on-call person, rotation, "
    "override, expert or appointment; or a path naming nothing.",
    409: "Conflict: beneficiary already registered, recharge code already used, an "
    "idempotency key already used for a different request, an on-call person already on "
    "the roster or still in a rotation, an expert already registered, no expert free for "
    "the slot (slot-full), or an appointment that can no longer change.",
    410: "The recharge code has expired.",
    422: "Refused by the offer's rules: emergency assistance without Pass Prioritaire, a "
    "slot outside the appointments' hours, too soon or too far ahead, an unknown domain.",
    429: "Sign-in locked after repeated failures; Retry-After gives the seconds to wait.",
    500: "Unexpected server error; details are logged server-side, never returned.",
    503: "The PBX link is down; callrouter is reconnecting by itself.",
}


class Document(RootModel[dict[str, Any]]):
    """The OpenAPI 3.1 document."""


META_ROUTES = Endpoints("meta")


@META_ROUTES.route("GET", "/api/openapi.json", "This document", roles=None)
async def openapi_document(call: Call) -> Document:
    endpoints: list[Endpoint] = call.request.app[ENDPOINTS]
    return Document(api_document(endpoints))


def api_document(endpoints: Sequence[Endpoint]) -> Json:
    wanted: list[tuple[type[BaseModel], Mode]] = [(ErrorBody, "serialization")]
    for endpoint in endpoints:
        wanted.append((endpoint.response, "serialization"))
        wanted.extend((model, "validation") for model in endpoint.inputs.values())
    keys, top = models_json_schema(list(dict.fromkeys(wanted)), ref_template=_REF)
    schemas: Json = top.get("$defs", {})
    paths: Json = {}
    for endpoint in endpoints:
        refs = {name: keys[(model, "validation")] for name, model in endpoint.inputs.items()}
        response = keys[(endpoint.response, "serialization")]
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(
            endpoint, refs, response, schemas
        )
    # Path and query models become parameters; their own schemas are not referenced.
    for endpoint in endpoints:
        for name, model in endpoint.inputs.items():
            if name != "body":
                schemas.pop(_name(keys[(model, "validation")]), None)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "callrouter HTTP API",
            "version": __version__,
            "description": (
                "Points accounts of the support hotline: holders sign in with their account "
                "number and web access code, then read their balance, movements and "
                "incidents, manage beneficiaries and redeem recharge codes. Staff hold an API "
                "key from `callrouter operator create --role ROLE` (coordinator, supervisor "
                "or admin); each route lists the roles it admits. Every error is JSON: "
                '{"error": {"code", "message", "field"?}}. Unknown body fields and query '
                "parameters are refused (400). Times carry their UTC offset, in the "
                "calendar's time zone."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                _HOLDER: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Token returned by POST /api/account/sign-in.",
                },
                _STAFF: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "crk_<key id>_<secret>",
                    "description": "API key printed once by `callrouter operator create`.",
                },
            },
        },
    }


def _name(ref: Json) -> str:
    return str(ref["$ref"]).rsplit("/", 1)[-1]


def _operation(endpoint: Endpoint, refs: dict[str, Json], response: Json, schemas: Json) -> Json:
    described = (endpoint.response.__doc__ or "Success.").strip()
    media_type = getattr(endpoint.response, "media_type", None)
    if isinstance(media_type, str):
        # A body that renders itself (endpoint.RendersItself): text of that type.
        content = {media_type: {"schema": {"type": "string"}}}
        responses: Json = {str(endpoint.status): {"description": described, "content": content}}
    else:
        responses = {str(endpoint.status): _json(response, described)}
    for status, description in endpoint.other_statuses.items():
        responses[str(status)] = _json(response, description)
    for status in sorted(_error_statuses(endpoint)):
        responses[str(status)] = _error(status)
    operation: Json = {
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "security": _security(endpoint.roles),
        "responses": responses,
    }
    if endpoint.roles is not None:
        names = ", ".join(role.value for role in Role if role in endpoint.roles)
        operation["description"] = f"Roles: {names}."
    parameters = [
        parameter
        for where in ("path", "query")
        if where in refs
        for parameter in _parameters(where, schemas[_name(refs[where])])
    ]
    if parameters:
        operation["parameters"] = parameters
    if "body" in refs:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs["body"]}},
        }
    return operation


def _error_statuses(endpoint: Endpoint) -> set[int]:
    statuses = {*endpoint.errors, 500}
    if endpoint.roles is not None:
        statuses |= {401, 403}
    if "path" in endpoint.inputs:
        statuses.add(404)
    if "query" in endpoint.inputs or "body" in endpoint.inputs:
        statuses.add(400)
    return statuses


def _security(roles: frozenset[Role] | None) -> list[Json]:
    if roles is None:
        return []
    schemes: list[Json] = []
    if Role.HOLDER in roles:
        schemes.append({_HOLDER: []})
    if any(role in roles for role in STAFF_ROLES):
        schemes.append({_STAFF: []})
    return schemes


def _parameters(where: str, schema: Json) -> list[Json]:
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": where,
            "required": where == "path" or name in required,
            "schema": _parameter_schema(spec),
            **({"description": spec["description"]} if "description" in spec else {}),
        }
        for name, spec in schema.get("properties", {}).items()
    ]


def _parameter_schema(spec: Json) -> Json:
    """A query or path value is text or absent, never null: an optional parameter's
    `anyOf [T, null]` with a null default is just T."""
    options = [option for option in spec.get("anyOf", []) if option.get("type") != "null"]
    if len(options) == 1 and spec.get("default", 0) is None:
        spec = {**spec, **options[0]}
        del spec["anyOf"], spec["default"]
    return {key: value for key, value in spec.items() if key not in ("description", "title")}


def _json(schema: Json, description: str) -> Json:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(status: int) -> Json:
    response = _json({"$ref": _REF.format(model="ErrorBody")}, _ERROR_CODES[status])
    if status == 429:
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds until the lock ends.",
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    return response
