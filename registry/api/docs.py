"""``/api``: the API's documentation, rendered on the server from the OpenAPI document.

The footer's "API" used to open raw JSON. This page is generated from the
very document the tests validate responses against, so it cannot drift from
what the API answers; it needs no JavaScript and no CDN. Its JSON twin is the
same digest of the document (the document itself stays at ``openapi.json``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, url_for

from ..web import current
from ..web.caching import public_page
from ..web.negotiation import respond
from .openapi import openapi_document

bp = Blueprint("apidocs", __name__)

#: Deeper than this, a nested object is named by its keys only: a page, not a dump.
MAX_DEPTH = 2


def schema_text(schema: dict[str, Any]) -> str:
    """One line for a schema: ``integer, 1 to 100``, ``one of: en, th``, ``Cab``."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "const" in schema:
        return f"always {schema['const']!r}".replace("True", "true")
    if "enum" in schema:
        return "one of: " + ", ".join(repr(v) if v == "" else str(v) for v in schema["enum"])
    if "oneOf" in schema:
        return " or ".join(schema_text(s) for s in schema["oneOf"])
    kinds = schema.get("type", "any")
    text = " or ".join(kinds) if isinstance(kinds, list) else str(kinds)
    if kinds == "array" and "items" in schema:
        text = f"array of {schema_text(schema['items'])}"
    words = {
        "format": "format {}",
        "minimum": "at least {}",
        "maximum": "at most {}",
        "maxLength": "at most {} characters",
        "default": "default {}",
        "pattern": "pattern {}",
    }
    extras = [word.format(schema[key]) for key, word in words.items() if key in schema]
    return ", ".join([text, *extras])


def fields(schema: dict[str, Any], depth: int = 0) -> list[dict[str, Any]]:
    """An object's properties, each with its type, whether required, and nested fields."""
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        schema = schema["items"]
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema.get("properties", {}).items():
        nested = prop.get("items", prop) if prop.get("type") == "array" else prop
        inner = fields(nested, depth + 1) if "properties" in nested and depth < MAX_DEPTH else []
        out.append(
            {
                "name": name,
                "type": schema_text(prop),
                "required": name in required,
                "description": prop.get("description", ""),
                "fields": inner,
            }
        )
    return out


def digest(document: dict[str, Any]) -> dict[str, Any]:
    """What a reader needs from the document: operations, their parameters and answers."""
    operations = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            body = op.get("requestBody", {}).get("content", {})
            operations.append(
                {
                    "id": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "try": path if method == "get" and "{" not in path else None,
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": bool(p.get("required")),
                            "type": schema_text(p.get("schema", {})),
                            "description": p.get("description", ""),
                        }
                        for p in op.get("parameters", [])
                    ],
                    "body": [
                        {"media_type": media, "type": schema_text(c.get("schema", {}))}
                        for media, c in body.items()
                    ],
                    "responses": [
                        {
                            "status": status,
                            "description": r.get("description", ""),
                            "type": ", ".join(
                                schema_text(c.get("schema", {}))
                                for c in r.get("content", {}).values()
                            ),
                        }
                        for status, r in op.get("responses", {}).items()
                    ],
                }
            )
    schemas = document.get("components", {}).get("schemas", {})
    return {
        "info": document["info"],
        "operations": operations,
        "schemas": [
            {"name": name, "type": schema_text(s), "fields": fields(s)}
            for name, s in schemas.items()
        ],
    }


@bp.get("/api")
@public_page
def docs() -> Any:
    settings = current.settings()
    data = digest(openapi_document(settings.data_licence, settings.data_licence_url))
    data["openapi"] = url_for("api.openapi")
    data["schema_names"] = [s["name"] for s in data["schemas"]]
    return respond(data, "api_docs.html")
