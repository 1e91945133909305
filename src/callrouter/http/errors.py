"""JSON errors for every HTTP route: `{"error": {"code", "message", "field"?}}`.

Handlers raise ApiError (or let aiohttp raise its HTTPException for unknown routes and
methods); the middleware renders both as JSON. Anything else is a bug: it is logged with
its traceback server-side and the client gets a plain 500, never a stack trace.
"""

from __future__ import annotations

from collections.abc import Mapping

import structlog
from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import BaseModel, Field

log = structlog.get_logger(__name__)


class ApiError(Exception):
    """An error the client caused or must know about, with its HTTP status.

    `code` is a stable machine-readable word ("invalid-input", "locked"...); `message` is
    written for the person using the client; `field` names the offending input, if one.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})


class InvalidInput(ApiError):
    """400: the request's body or query does not have the documented form."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(400, "invalid-input", message, field=field)


class ErrorDetail(BaseModel):
    code: str = Field(
        description="Stable word: invalid-input, unauthorized, invalid-credentials, forbidden, "
        "not-found, conflict, locked, insufficient-balance, emergency-unavailable, "
        "idempotency-key-reused, unknown-code, code-already-used, code-expired, "
        "internal-error..."
    )
    message: str = Field(description="For people.")
    field: str | None = Field(default=None, description="The input at fault, if one.")


class ErrorBody(BaseModel):
    """Every error the API answers, whatever its status."""

    error: ErrorDetail


def error_body(code: str, message: str, field: str | None = None) -> dict[str, object]:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, field=field))
    return body.model_dump(exclude_none=True)


def error_response(error: ApiError) -> web.Response:
    return web.json_response(
        error_body(error.code, error.message, error.field),
        status=error.status,
        headers=error.headers,
    )


# aiohttp's own refusals (no such route, method not allowed, body too large...) keep their
# status; these give them the same stable codes our handlers use.
_HTTP_CODES = {
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    415: "unsupported-media-type",
}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as error:
        log.info(
            "http.client_error",
            method=request.method,
            path=request.path,
            status=error.status,
            code=error.code,
            field=error.field,
        )
        return error_response(error)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        if error.content_type == "application/json":
            return web.Response(
                text=error.text,
                status=error.status,
                content_type="application/json",
                headers=_kept_headers(error),
            )
        code = _HTTP_CODES.get(error.status, "http-error")
        message = error.reason if error.status != 404 else f"no route for {request.path}"
        return web.json_response(
            error_body(code, message), status=error.status, headers=_kept_headers(error)
        )
    except Exception:
        log.exception("http.unexpected_error", method=request.method, path=request.path)
        return web.json_response(
            error_body("internal-error", "the server failed to handle this request"),
            status=500,
        )


def _kept_headers(error: web.HTTPException) -> dict[str, str]:
    # Allow (405) matters to clients; content headers are rebuilt by json_response.
    return {key: value for key, value in error.headers.items() if key in ("Allow",)}
