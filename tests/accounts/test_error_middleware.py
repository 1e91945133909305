"""Every error leaves the server as JSON with a stable code; never with a stack trace."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from callrouter.http.errors import ApiError, InvalidInput, error_middleware


async def _conflict(request: web.Request) -> web.Response:
    raise ApiError(409, "conflict", "that code was already used", headers={"X-Why": "reuse"})


async def _bad_field(request: web.Request) -> web.Response:
    raise InvalidInput("limit", "limit must be a whole number from 1 to 200")


async def _bug(request: web.Request) -> web.Response:
    raise RuntimeError("secret internal detail at /srv/callrouter/db.py line 42")


@pytest.fixture
async def client() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = web.Application(middlewares=[error_middleware])
    app.router.add_post("/conflict", _conflict)
    app.router.add_get("/bad", _bad_field)
    app.router.add_get("/bug", _bug)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_api_errors_keep_status_code_message_and_headers(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.post("/conflict")
    assert response.status == 409
    assert response.headers["X-Why"] == "reuse"
    assert await response.json() == {
        "error": {"code": "conflict", "message": "that code was already used"}
    }


async def test_invalid_input_names_the_field(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.get("/bad")
    assert response.status == 400
    body = await response.json()
    assert body["error"]["field"] == "limit"
    assert body["error"]["code"] == "invalid-input"


async def test_an_unexpected_exception_is_a_500_without_details(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.get("/bug")
    assert response.status == 500
    text = await response.text()
    assert "secret internal detail" not in text
    assert "Traceback" not in text
    assert (await response.json())["error"]["code"] == "internal-error"


async def test_unknown_routes_and_methods_answer_in_json(
    client: TestClient[web.Request, web.Application],
) -> None:
    missing = await client.get("/nowhere")
    assert missing.status == 404
    assert (await missing.json())["error"]["code"] == "not-found"
    wrong_method = await client.get("/conflict")
    assert wrong_method.status == 405
    assert "POST" in wrong_method.headers["Allow"]
    assert (await wrong_method.json())["error"]["code"] == "method-not-allowed"
