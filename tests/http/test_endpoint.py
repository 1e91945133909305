"""A route is its declaration and a handler: the document and the checks come from them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from typing_extensions import TypedDict

from callrouter.calendar.windows import PARIS
from callrouter.http.access import Role
from callrouter.http.api import setup_http_api
from callrouter.http.endpoint import ENDPOINTS, Call, Endpoints, Plain, add_endpoints, json_body
from callrouter.http.fields import TIMEZONE, Id, Instant, Text
from callrouter.http.openapi import api_document


class NotePath(BaseModel):
    note_id: Id


class NoteQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: Annotated[int, Field(ge=1, le=10)] = 5


class NewNote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[str, Text(20)]


class Note(BaseModel):
    """The note."""

    note_id: int
    text: str
    limit: int


NOTES = Endpoints("notes")


@NOTES.route(
    "POST", "/notes/{note_id}", "Write a note", roles=(Role.SUPERVISOR,), status=201, errors=(409,)
)
async def write(call: Call, body: NewNote, query: NoteQuery, path: NotePath) -> Note:
    return Note(note_id=path.note_id, text=body.text, limit=query.limit)


def test_one_declaration_gives_the_whole_operation() -> None:
    [operation] = api_document(NOTES.items)["paths"]["/notes/{note_id}"].values()
    assert operation["security"] == [{"staffKey": []}]
    assert operation["description"] == "Roles: supervisor."
    assert sorted(operation["responses"]) == ["201", "400", "401", "403", "404", "409", "500"]
    assert [(p["name"], p["in"]) for p in operation["parameters"]] == [
        ("note_id", "path"),
        ("limit", "query"),
    ]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NewNote"
    }


def test_a_handler_must_take_and_return_models() -> None:
    routes = Endpoints("broken")
    with pytest.raises(TypeError, match="inputs are path, query, body models"):

        @routes.route("GET", "/x", "x", roles=None)
        async def takes_text(call: Call, body: str) -> Note:
            raise AssertionError

    with pytest.raises(TypeError, match="inputs are path, query, body models"):

        @routes.route("GET", "/x", "x", roles=None)
        async def takes_headers(call: Call, headers: NewNote) -> Note:
            raise AssertionError

    with pytest.raises(TypeError, match="must return a pydantic model"):

        @routes.route("GET", "/x", "x", roles=None)
        async def returns_a_dict(call: Call) -> dict[str, str]:
            raise AssertionError

    assert routes.items == []


async def test_without_a_way_to_check_credentials_nobody_gets_in() -> None:
    app = web.Application()
    setup_http_api(app, timezone=PARIS)
    add_endpoints(app, NOTES)
    assert [endpoint.path for endpoint in app[ENDPOINTS]] == [
        "/api/openapi.json",
        "/notes/{note_id}",
    ]
    async with TestClient(TestServer(app)) as client:
        response = await client.post("/notes/1", json={"text": "x"})
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "unauthorized"


class Reading(BaseModel):
    """What answers carry: people's text, figures, times, nothing, lists."""

    text: str
    ratio: float
    at: Instant
    left: int | None
    names: list[str]


@given(
    text=st.text(),
    ratio=st.floats(allow_nan=False, allow_infinity=False),
    at=st.datetimes(timezones=st.just(UTC)),
    left=st.none() | st.integers(),
    names=st.lists(st.text(), max_size=3),
)
def test_answers_are_written_as_the_same_document_as_json_dumps_wrote(
    text: str, ratio: float, at: datetime, left: int | None, names: list[str]
) -> None:
    # The answer's bytes come from pydantic now (compact, UTF-8): json.dumps of the dump
    # wrote them before; the two must read back as one document.
    answer = Reading(text=text, ratio=ratio, at=at, left=left, names=names)
    before = json.dumps(answer.model_dump(mode="json", context={TIMEZONE: PARIS}))
    assert json.loads(json_body(answer, PARIS)) == json.loads(before)


class NoteDocument(TypedDict):
    note_id: int
    text: str
    limit: int


PLAIN_NOTES = Endpoints("plain notes")


@PLAIN_NOTES.route("GET", "/plain-notes/{note_id}", "Read a note", roles=None)
async def read(call: Call, path: NotePath) -> Plain[Note]:
    return Plain(TypeAdapter(NoteDocument), {"note_id": path.note_id, "text": "é", "limit": 5})


async def test_a_plain_answer_is_documented_as_its_model_and_sent_as_written() -> None:
    [endpoint] = PLAIN_NOTES.items
    assert endpoint.response is Note
    app = web.Application()
    setup_http_api(app, timezone=PARIS)
    add_endpoints(app, PLAIN_NOTES)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/plain-notes/3")
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        assert await response.read() == '{"note_id":3,"text":"é","limit":5}'.encode()
