"""``/api``: documentation generated from the OpenAPI document, server-rendered, no CDN."""

from __future__ import annotations

import html

from registry.api.docs import schema_text
from registry.api.openapi import openapi_document


def test_the_docs_page_lists_every_operation_parameter_and_schema(client):
    document = openapi_document()
    page = html.unescape(client.get("/api?lang=en").get_data(as_text=True))
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert f"{method.upper()} {path}" in page
            for parameter in operation.get("parameters", []):
                assert f"<code>{parameter['name']}</code>" in page
            for status in operation["responses"]:
                assert f"<code>{status}</code>" in page
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in page
    assert "<script" not in page and "https://" not in page.split("</head>")[0]
    assert 'href="/api/v1/openapi.json"' in page
    assert document["info"]["license"]["name"] in page


def test_the_docs_have_a_json_twin_and_a_thai_page(client):
    data = client.get("/api", headers={"Accept": "application/json"}).json
    count = sum(len(item) for item in openapi_document()["paths"].values())
    assert len(data["operations"]) == count
    search = next(op for op in data["operations"] if op["path"] == "/api/v1/search")
    per_page = next(p for p in search["parameters"] if p["name"] == "per_page")
    assert per_page["type"] == "integer, at least 1, at most 100, default 20"
    thai = client.get("/api?lang=th").get_data(as_text=True)
    assert "<h1>เอกสาร API</h1>" in thai and '<div lang="en">' in thai


def test_the_footer_api_link_opens_the_docs(client):
    footer = client.get("/?lang=en").get_data(as_text=True).split("<footer>")[1]
    assert '<a href="/api">API</a>' in footer


def test_schemas_read_as_one_line():
    assert schema_text({"$ref": "#/components/schemas/Cab"}) == "Cab"
    assert schema_text({"type": ["string", "null"], "format": "date"}) == (
        "string or null, format date"
    )
    assert schema_text({"type": "array", "items": {"enum": ["a", "b"]}}) == (
        "array of one of: a, b"
    )
    assert schema_text({"oneOf": [{"type": "null"}, {"$ref": "#/x/Y"}]}) == "null or Y"
