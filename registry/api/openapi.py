"""The OpenAPI 3.1 document of ``/api/v1``: what a test validates every response against."""

from __future__ import annotations

from typing import Any

from verifier.report import (
    CHECK_NAMES,
    CertificateStatus,
    DocumentVerdict,
    Integrity,
    Issuer,
    StatusLine,
    Verdict,
)

from ..pages.records import MAX_ID, MAX_SCOPE_PAGE
from ..register.programmes import Programme
from ..register.status import PUBLIC_STATUSES
from ..search.query import MAX_PAGE, MAX_PER_PAGE, PER_PAGE
from ..settings import Settings


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema_type: str, **extra: Any) -> dict[str, Any]:
    return {"type": [schema_type, "null"], **extra}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


def _optional(schema: dict[str, Any], **properties: Any) -> dict[str, Any]:
    """``schema`` with more properties that an answer may carry but need not."""
    return {**schema, "properties": {**schema["properties"], **properties}}


STRING = {"type": "string"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
INTEGER = {"type": "integer"}
STATUS = {"type": "string", "enum": [s.value for s in PUBLIC_STATUSES]}
PROGRAMME = {"type": "string", "enum": [p.value for p in Programme]}
#: How the public reaches a body; each is null when the body has not given it.
CONTACT = {
    "email": _nullable("string"),
    "phone": _nullable("string"),
    "website": _nullable("string"),
}
RECOGNITION = {
    "type": "array",
    "description": "The agency's mutual recognition arrangements (APAC, ILAC); "
    "covers: whether one covers this record's programme",
    "items": _object(
        {
            "name": STRING,
            "scope": {"type": "array", "items": STRING},
            "since": DATE,
            "until": _nullable("string", format="date"),
            "url": _nullable("string"),
            "covers": {"type": "boolean"},
        }
    ),
}


def _schemas() -> dict[str, Any]:
    facet = _object(
        {
            "value": STRING,
            "label_th": STRING,
            "count": INTEGER,
            "selected": {"type": "boolean"},
        }
    )
    site = _object(
        {
            "id": INTEGER,
            "name_en": STRING,
            "name_th": STRING,
            "address_en": STRING,
            "address_th": STRING,
            "province_en": _nullable("string"),
            "province_th": _nullable("string"),
            "country": STRING,
        }
    )
    return {
        "Problem": _object({"error": _object({"code": STRING, "title": STRING, "detail": STRING})}),
        "SearchResult": _object(
            {
                "query": _object(
                    {
                        "q": STRING,
                        "programme": _nullable("string"),
                        "field": _nullable("string"),
                        "province": _nullable("string"),
                        "place": {**_nullable("string"), "description": "Same as province"},
                        "status": STRING,
                    }
                ),
                "terms": {
                    "type": "array",
                    "items": STRING,
                    "description": "The words matched, after Thai segmentation and stop words",
                },
                "suggestions": {
                    "type": "array",
                    "items": STRING,
                    "description": "When nothing matched: the register's words nearest the query",
                },
                "total": INTEGER,
                "page": INTEGER,
                "pages": INTEGER,
                "per_page": INTEGER,
                "results": {
                    "type": "array",
                    "items": _object(
                        {
                            "accreditation": STRING,
                            "cab_id": INTEGER,
                            "name_en": STRING,
                            "name_th": STRING,
                            "programme": PROGRAMME,
                            "standard": STRING,
                            "status": STATUS,
                            "valid_until": DATE,
                            "places_en": STRING,
                            "places_th": STRING,
                            "url": STRING,
                            "matches": {
                                "type": "array",
                                "description": "Scope lines that hold query terms, best first",
                                "items": _object(
                                    {
                                        "product_en": STRING,
                                        "product_th": STRING,
                                        "parameter_en": STRING,
                                        "parameter_th": STRING,
                                        "method": STRING,
                                    }
                                ),
                            },
                            "scope_filter": {
                                "type": "string",
                                "description": "The terms its scope holds: the record's q",
                            },
                        }
                    ),
                },
                "facets": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": facet},
                },
            }
        ),
        "Site": site,
        "Cab": _object(
            {
                "cab": _object(
                    {
                        "id": INTEGER,
                        "name_en": STRING,
                        "name_th": STRING,
                        "national_id": STRING,
                        **CONTACT,
                    }
                ),
                "sites": {"type": "array", "items": _ref("Site")},
                "accreditations": {
                    "type": "array",
                    "items": _object(
                        {
                            "number": STRING,
                            "programme": PROGRAMME,
                            "standard": STRING,
                            "status": STATUS,
                            "since": _nullable("string", format="date"),
                            "valid_from": DATE,
                            "valid_until": DATE,
                            "url": STRING,
                        }
                    ),
                },
                "recognition": RECOGNITION,
                "last_updated": DATETIME,
                "checked_at": DATETIME,
            }
        ),
        "Accreditation": _object(
            {
                "accreditation": _object(
                    {
                        "number": STRING,
                        "programme": PROGRAMME,
                        "standard": STRING,
                        "first_granted": DATE,
                        "valid_from": DATE,
                        "valid_until": DATE,
                        "status": STATUS,
                        "since": _nullable("string", format="date"),
                        "until": _nullable("string", format="date"),
                        "reason": _nullable("string"),
                        "reason_th": _nullable("string"),
                    }
                ),
                "cab": _object(
                    {"id": INTEGER, "name_en": STRING, "name_th": STRING, "url": STRING, **CONTACT}
                ),
                "sites": {
                    "type": "array",
                    "description": "The body's sites with their addresses; scope lines name one",
                    "items": _ref("Site"),
                },
                "recognition": RECOGNITION,
                "scope": _object(
                    {
                        "total": INTEGER,
                        "in_scope": INTEGER,
                        "suspended": INTEGER,
                        "page": INTEGER,
                        "pages": INTEGER,
                        "per_page": INTEGER,
                        "filters": _object(
                            {
                                "q": STRING,
                                "site": _nullable("integer"),
                                "field": _nullable("string"),
                            }
                        ),
                        "fields": {
                            "type": "array",
                            "items": _object({"en": STRING, "th": STRING, "count": INTEGER}),
                        },
                        "sites": {
                            "type": "array",
                            "items": _object({"id": INTEGER, "name_en": STRING, "name_th": STRING}),
                        },
                        "items": {"type": "array", "items": _ref("ScopeItem")},
                    }
                ),
                "history": {
                    "type": "array",
                    "items": _object(
                        {
                            "kind": STRING,
                            "effective": DATE,
                            "until": _nullable("string", format="date"),
                            "reason_en": STRING,
                            "reason_th": STRING,
                            "items": INTEGER,
                            "decided_at": DATETIME,
                            "log_index": _nullable("integer"),
                            "log_proof": _nullable("string"),
                        }
                    ),
                },
                "certificates": {
                    "type": "array",
                    "items": _object(
                        {
                            "number": STRING,
                            "revision": INTEGER,
                            "issued_at": DATETIME,
                            "status": {"enum": [s.value for s in CertificateStatus]},
                            "current": {"type": "boolean"},
                            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                            "pdf": STRING,
                            "url": STRING,
                            "log_index": _nullable("integer"),
                            "log_proof": _nullable("string"),
                        }
                    ),
                },
                "last_updated": DATETIME,
                "checked_at": DATETIME,
            }
        ),
        "ScopeItem": _object(
            {
                "id": INTEGER,
                "site_id": INTEGER,
                "site_en": STRING,
                "site_th": STRING,
                "field_en": STRING,
                "field_th": STRING,
                "product_en": STRING,
                "product_th": STRING,
                "parameter_en": STRING,
                "parameter_th": STRING,
                "method": STRING,
                "range": _nullable("string"),
                "cmc": _nullable("string"),
                "status": {
                    "enum": ["active", "suspended", "withdrawn", "expired"],
                    "description": "The line's status, never active under a withdrawn, "
                    "expired or wholly suspended accreditation",
                },
            }
        ),
        "CertificateAnswer": _optional(
            _object(
                {
                    "genuine": {"const": True},
                    "status": {"enum": [s.value for s in CertificateStatus]},
                    "since": _nullable("string", format="date"),
                    "until": _nullable("string", format="date"),
                    "reason": _nullable("string"),
                    "reason_th": _nullable("string"),
                    "certificate": _object(
                        {
                            "number": STRING,
                            "revision": INTEGER,
                            "issued_at": DATETIME,
                            "sha256": STRING,
                            "served_sha256": _nullable("string"),
                            "pdf": STRING,
                            "log_index": _nullable("integer"),
                            "log_proof": _nullable("string"),
                        }
                    ),
                    "current_revision": {
                        "oneOf": [
                            {"type": "null"},
                            _object({"number": STRING, "revision": INTEGER}),
                        ]
                    },
                    "accreditation": _object(
                        {
                            "number": STRING,
                            "status": {"enum": ["pending", *(s.value for s in PUBLIC_STATUSES)]},
                            "standard": STRING,
                            "programme": PROGRAMME,
                            "valid_from": DATE,
                            "valid_until": DATE,
                        }
                    ),
                    "cab": _object({"name_en": STRING, "name_th": STRING}),
                    "scope": _object(
                        {
                            "items": INTEGER,
                            "suspended": INTEGER,
                            "sites": INTEGER,
                            "fields": {
                                "type": "array",
                                "items": _object({"en": STRING, "th": STRING}),
                            },
                        }
                    ),
                    "suspended_items": {
                        "type": "array",
                        "items": _object(
                            {
                                "id": INTEGER,
                                "product_en": STRING,
                                "product_th": STRING,
                                "parameter_en": STRING,
                                "parameter_th": STRING,
                                "method": STRING,
                                "since": _nullable("string", format="date"),
                                "until": _nullable("string", format="date"),
                            }
                        ),
                    },
                    "checked_at": DATETIME,
                    "live": {"type": "boolean"},
                }
            ),
            # On the QR and certificate answers; a verification report's register part omits it.
            recognition=RECOGNITION,
        ),
        "Check": _object(
            {
                "name": {"enum": list(CHECK_NAMES)},
                "passed": {"type": "boolean"},
                "outcome": {"enum": ["passed", "failed", "indeterminate"]},
                "code": _nullable("string"),
                "detail": STRING,
            }
        ),
        "VerificationReport": _object(
            {
                "file": _nullable("string"),
                "verdict": {"enum": [v.value for v in Verdict]},
                "document": {"enum": [d.value for d in DocumentVerdict]},
                "status": {"enum": [s.value for s in CertificateStatus]},
                "certificate_number": _nullable("string"),
                "revision": _nullable("integer"),
                "signer": _nullable("string"),
                "signed_at": _nullable("string", format="date-time"),
                "status_source": _nullable("string"),
                "status_as_of": _nullable("string", format="date-time"),
                "headline": _object(
                    {
                        "integrity": {"enum": [i.value for i in Integrity]},
                        "issuer": {"enum": [i.value for i in Issuer]},
                        "status": {"enum": [s.value for s in StatusLine]},
                    }
                ),
                "checks": {"type": "array", "items": _ref("Check")},
                "register": {"oneOf": [{"type": "null"}, _ref("CertificateAnswer")]},
            },
            required=["verdict", "document", "status", "checks"],
        ),
        "VerificationResults": _object(
            {"reports": {"type": "array", "items": _ref("VerificationReport")}}
        ),
        "VerifyOffer": _object(
            {
                "verify": _object(
                    {
                        "page": STRING,
                        "upload": _object(
                            {
                                "url": STRING,
                                "method": {"const": "POST"},
                                "encoding": {"const": "multipart/form-data"},
                                "field": STRING,
                                "accepts": {"type": "array", "items": STRING},
                            }
                        ),
                        "page_upload": _object(
                            {"url": STRING, "method": {"const": "POST"}, "field": STRING}
                        ),
                        "limits": _object(
                            {
                                "max_files": {"type": "integer", "minimum": 1},
                                "max_request_bytes": {"type": "integer", "minimum": 1},
                                "rate_limit": STRING,
                            }
                        ),
                        "stored": {"const": False},
                        "answers": {
                            "type": "array",
                            "items": {"enum": [v.value for v in Verdict]},
                        },
                        "api_docs": STRING,
                        "openapi": STRING,
                    }
                )
            }
        ),
    }


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _problem(description: str) -> dict[str, Any]:
    return _json("Problem", description)


LIMITED = {
    "description": "Too many requests from this address; retry after the given seconds",
    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
    "content": {"application/json": {"schema": _ref("Problem")}},
}


#: Taken by every operation: the language of labels and messages.
LANG = {
    "name": "lang",
    "in": "query",
    "required": False,
    "schema": {"enum": ["en", "th"]},
    "description": "Language of labels and messages",
}


def _get(summary: str, schema: str, parameters: list[dict[str, Any]], *errors: int) -> Any:
    """A GET operation; every one refuses unknown query parameters, hence its 400."""
    responses: dict[str, Any] = {"200": _json(schema, summary), "429": LIMITED}
    for code in sorted({400, *errors}):
        responses[str(code)] = _problem("Bad request" if code == 400 else "Not found")
    named = {p["name"] for p in parameters}
    parameters = [*parameters, *([LANG] if "lang" not in named else [])]
    return {"get": {"summary": summary, "parameters": parameters, "responses": responses}}


def query_parameters(document: dict[str, Any], path: str) -> list[str]:
    """The query parameters the document lists for ``path``'s GET: all that it accepts."""
    return list(query_choices(document, path))


def query_choices(document: dict[str, Any], path: str) -> dict[str, tuple[str, ...] | None]:
    """Each query parameter of ``path``'s GET, with the values its ``enum`` allows (or None)."""
    operation = document["paths"].get(path, {}).get("get", {})
    return {
        p["name"]: tuple(p["schema"]["enum"]) if "enum" in p["schema"] else None
        for p in operation.get("parameters", [])
        if p["in"] == "query"
    }


def _param(name: str, where: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "description": description,
    }


def openapi_document(
    licence: str = Settings.data_licence, licence_url: str = Settings.data_licence_url
) -> dict[str, Any]:
    """The document; the licence is the instance's (``ACCREDIT_DATA_LICENCE``)."""
    query = [
        _param(
            "q",
            "query",
            {"type": "string", "maxLength": 200},
            "Free text: names, numbers, tests, products, methods; Thai substrings work",
        ),
        _param(
            "programme",
            "query",
            {"type": "string", "enum": ["", *PROGRAMME["enum"]]},
            "Accreditation programme; empty or absent means every programme",
        ),
        _param("field", "query", STRING, "Field of scope (English value of a facet)"),
        _param(
            "province",
            "query",
            STRING,
            "Province (English name, the value of the province facet), or the country "
            "code of a site abroad",
        ),
        _param("place", "query", STRING, "The older name of province, still understood"),
        _param(
            "status",
            "query",
            {"enum": ["", "all", *(s.value for s in PUBLIC_STATUSES)]},
            "Status filter; empty or absent means every public status",
        ),
        _param(
            "page", "query", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, "Page number"
        ),
        _param(
            "per_page",
            "query",
            {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": PER_PAGE},
            f"Results per page, at most {MAX_PER_PAGE}",
        ),
        _param(
            "lang",
            "query",
            {"enum": ["en", "th"]},
            "Language of labels; th also orders results by their Thai names",
        ),
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Accreditation register API",
            "version": "1.0.0",
            "description": "The public register of accredited bodies and the certificate "
            "verifier. Every public page has the same content here as JSON. Codes are "
            "stable English words; labels on pages are translated. Unknown query "
            "parameters are refused with 400. Public GET endpoints allow any origin (CORS).",
            "license": {"name": licence, "url": licence_url},
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/api/v1/search": _get("Search the register", "SearchResult", query, 400),
            "/api/v1/cabs/{cab_id}": _get(
                "A body, its sites and accreditations",
                "Cab",
                [_param("cab_id", "path", INTEGER, "Body id")],
                404,
            ),
            "/api/v1/accreditations/{number}": _get(
                "An accreditation: status, scope (filtered, paginated), history, certificates",
                "Accreditation",
                [
                    _param("number", "path", STRING, "Accreditation number, e.g. Testing-0123"),
                    _param("q", "query", {"type": "string", "maxLength": 200}, "Scope text"),
                    _param(
                        "site",
                        "query",
                        {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                        "Site id",
                    ),
                    _param("field", "query", STRING, "Field (English)"),
                    _param(
                        "page",
                        "query",
                        {"type": "integer", "minimum": 1, "maximum": MAX_SCOPE_PAGE},
                        "Scope page",
                    ),
                ],
                400,
                404,
            ),
            "/api/v1/certificates/{accreditation}/{revision}": _get(
                "The register's answer about a certificate revision (number Testing-0123/R2)",
                "CertificateAnswer",
                [
                    _param("accreditation", "path", STRING, "Accreditation number, Testing-0123"),
                    _param("revision", "path", {"type": "string", "pattern": "^R[0-9]+$"}, "R2"),
                ],
                404,
            ),
            "/api/v1/qr/{token}": _get(
                "The answer for a scanned QR payload (its signature is checked)",
                "CertificateAnswer",
                [_param("token", "path", STRING, "The base32 payload after /V/")],
                400,
                404,
            ),
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "parameters": [],
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "400": _problem("Unknown query parameter"),
                    },
                }
            },
            "/api/v1/verify": {
                **_get(
                    "What the verifier takes: where to upload, the field, the limits "
                    "(also GET /verify with Accept: application/json)",
                    "VerifyOffer",
                    [],
                ),
                "post": {
                    "summary": "Verify one or more certificate PDFs (never stored)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "file": {
                                            "type": "array",
                                            "items": {
                                                "type": "string",
                                                "contentMediaType": "application/pdf",
                                            },
                                        }
                                    },
                                    "required": ["file"],
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json("VerificationResults", "One report per file"),
                        "400": _problem("No file, or too many files"),
                        "413": _problem("The upload is larger than the limit"),
                        "429": LIMITED,
                    },
                },
            },
        },
        "components": {"schemas": _schemas()},
    }
