"""Pydantic's validation errors as the API's 400: `{"code": "invalid-input", "message",
"field"}`, the first error only, with a message a person reads ("limit must be a whole
number from 1 to 200"), built from the model's own JSON schema so it says what is expected.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from callrouter.http.errors import InvalidInput
from callrouter.http.fields import PHRASE

NOT_AN_OBJECT = "the request body must be a JSON object"
_NOT_AN_OBJECT_TYPES = {"json_invalid", "json_type", "model_type", "model_attributes_type"}
_INTEGER_TYPES = {
    "int_type",
    "int_parsing",
    "int_from_float",
    "int_parsing_size",
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
}


def invalid_input(error: ValidationError, model: type[BaseModel]) -> InvalidInput:
    first = error.errors(include_url=False)[0]
    location = first["loc"]
    if not location:
        return InvalidInput(
            None, NOT_AN_OBJECT if first["type"] in _NOT_AN_OBJECT_TYPES else first["msg"]
        )
    name = str(location[0])
    return InvalidInput(name, f"{name} {_phrase(first, _property(model, name), model)}")


def _phrase(error: ErrorDetails, schema: dict[str, Any], model: type[BaseModel]) -> str:
    kind = error["type"]
    context = error.get("ctx", {})
    if kind == PHRASE:
        return error["msg"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return f"is an unknown field (expected: {', '.join(_fields(model)) or 'none'})"
    if kind == "string_type":
        return "must be a string"
    if kind == "string_too_short":
        if context.get("min_length") == 1:
            return "must not be empty"
        return f"must have at least {context.get('min_length')} characters"
    if kind == "string_too_long":
        return f"must have at most {context.get('max_length')} characters"
    if kind in ("bool_type", "bool_parsing"):
        return "must be true or false"
    if kind in _INTEGER_TYPES:
        if "minimum" in schema and "maximum" in schema:
            return f"must be a whole number from {schema['minimum']} to {schema['maximum']}"
        return "must be a whole number"
    choices = _choices(schema, model)
    if choices:
        return f"must be one of: {', '.join(choices)}"
    return f"is not valid: {error['msg']}"


def _fields(model: type[BaseModel]) -> list[str]:
    return [
        field.validation_alias if isinstance(field.validation_alias, str) else field.alias or name
        for name, field in model.model_fields.items()
    ]


@cache
def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def _property(model: type[BaseModel], name: str) -> dict[str, Any]:
    found: dict[str, Any] = _schema(model).get("properties", {}).get(name, {})
    # An optional field is anyOf [its type, null]: what is expected is the non-null part.
    for option in found.get("anyOf", []):
        if option.get("type") != "null":
            return {**found, **option}
    return found


def _choices(schema: dict[str, Any], model: type[BaseModel]) -> list[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = _schema(model).get("$defs", {}).get(name, {})
    if "const" in schema:
        return [str(schema["const"])]
    return [str(value) for value in schema.get("enum", [])]
