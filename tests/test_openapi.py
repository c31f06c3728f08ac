"""The published OpenAPI description: valid, served as shipped, and covering exactly the routes
the extension registers (so it cannot drift from the handlers)."""

from __future__ import annotations

import re

from openapi_spec_validator import OpenAPIV30SpecValidator
from support.openapi import METHODS, described_operations, shipped_description
from support.rest import fetch_json

from jupyter_mlflow_groups.handlers import API, NotFoundHandler, routes


def registered_operations() -> set[tuple[str, str]]:
    """(path template, method) of every registered handler but the JSON 404 catch-all."""
    operations = set()
    for pattern, handler in routes():
        if handler is NotFoundHandler:
            continue
        template = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern.removeprefix(API))
        operations |= {(template, method) for method in METHODS if method in handler.__dict__}
    return operations


def test_the_description_is_valid_openapi():
    description = shipped_description()
    assert description["openapi"].startswith("3.0.")
    problems = [error.message for error in OpenAPIV30SpecValidator(description).iter_errors()]
    assert problems == []


def test_the_description_covers_exactly_the_registered_routes_and_methods():
    assert described_operations(shipped_description()) == registered_operations()


def test_every_error_status_is_described_in_the_error_shape():
    description = shipped_description()
    error_responses = description["components"]["responses"]
    for path, item in description["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    name = response["$ref"].rsplit("/", 1)[-1]
                    schema = error_responses[name]["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, status)


async def test_the_served_description_is_the_shipped_file(bindings, jp_fetch):
    bindings.write({"groups": {"team-a": {"tracking_uri": "http://mlflow.invalid"}}})
    status, served = await fetch_json(jp_fetch, *API.strip("/").split("/"), "openapi.json")
    assert status == 200
    assert served == shipped_description()
