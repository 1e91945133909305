"""The published OpenAPI document and the served routes describe the same API."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from callrouter.http.endpoint import ENDPOINTS
from callrouter.http.openapi import api_document

from .conftest import World

METHODS = {"get", "post", "put", "patch", "delete"}


def _served(app: web.Application) -> set[tuple[str, str]]:
    routes: set[tuple[str, str]] = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("formatter") or info.get("path")
        assert isinstance(path, str)
        routes.add((route.method.lower(), path))
    return routes


def _documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _document(world: World) -> dict[str, Any]:
    return api_document(world.client.app[ENDPOINTS])


async def test_every_served_route_is_documented_and_vice_versa(world: World) -> None:
    status, served_document = await world.json("GET", "/api/openapi.json", {})
    assert status == 200
    assert served_document == _document(world)
    assert _served(world.client.app) == _documented(served_document)


def test_every_reference_resolves(world: World) -> None:
    document = _document(world)
    schemas = document["components"]["schemas"]
    refs = _refs(document)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/")
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


def test_every_operation_documents_its_errors_and_security(world: World) -> None:
    document = _document(world)
    schemes = set(document["components"]["securitySchemes"])
    assert document["openapi"] == "3.1.0"
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "500" in responses, (method, path)
            assert any(code.startswith("2") for code in responses), (method, path)
            for requirement in operation["security"]:
                assert set(requirement) <= schemes
            if operation["security"]:
                assert {"401", "403"} <= set(responses), (method, path)
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    assert "{" + parameter["name"] + "}" in path
