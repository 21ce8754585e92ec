"""The settings page's API description: exactly the routes the server has, each with its
access rule, and the config body taken from the config file's own schema."""

from __future__ import annotations

import json
from types import SimpleNamespace

from camera_service.schema.document import json_schema
from camera_service.settings_page.api_description import CHANGE, OPERATIONS, PUBLIC, openapi
from camera_service.settings_page.http_api import COOKIE, SettingsApi


def _served_routes():
    app = SettingsApi(SimpleNamespace(calibrator=object())).app()
    return {(method, route.path) for route in app.routes for method in route.methods
            if method != "HEAD" and not route.path.startswith(("/static", "/index"))
            and route.path != "/"}


def test_every_route_is_described_and_nothing_else():
    described = {(op.method, op.path) for op in OPERATIONS}
    assert described == _served_routes()


def test_changes_need_the_csrf_header_and_reads_the_session():
    document = openapi("9.9")
    for op in OPERATIONS:
        described = document["paths"][op.path][op.method.lower()]
        headers = [p["name"] for p in described.get("parameters", []) if p["in"] == "header"]
        assert ("X-CSRF-Token" in headers) == (op.access == CHANGE), op.path
        assert (described["security"] == []) == (op.access == PUBLIC), op.path
    assert document["components"]["securitySchemes"]["session"]["name"] == COOKIE


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_the_config_body_is_the_config_files_schema():
    document = openapi()
    schemas = document["components"]["schemas"]
    for ref in _refs(document):  # every reference resolves inside the document
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schemas, ref
    config = json_schema()
    assert set(config["$defs"]) <= set(schemas)
    described = json.dumps(schemas["Sources"]["properties"]["sources"], sort_keys=True)
    own = json.dumps(config["properties"]["sources"], sort_keys=True)
    assert described == own.replace('"#/$defs/', '"#/components/schemas/')
    assert schemas["UrlSource"] == json.loads(json.dumps(config["$defs"]["UrlSource"]).replace(
        '"#/$defs/', '"#/components/schemas/'))
