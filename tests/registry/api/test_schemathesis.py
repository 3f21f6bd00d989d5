"""Schemathesis fuzzes the API from its own OpenAPI document: no 500, nothing off the schema.

Every operation of ``registry.api.openapi`` gets generated requests, valid
and invalid (wrong types, out-of-range numbers, odd characters, unknown
parameters); each answer must be no server error and must match the document
(status code, content type, body schema, headers). The register is a small
demo instance with one issued certificate, so that some requests meet real
records. The run is reproducible (a fixed seed, derandomised) and bounded: at
most ``EXAMPLES`` requests per operation, a few hundred in all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, seed, settings
from schemathesis.checks import positive_data_acceptance

from registry.api.openapi import openapi_document

from ...documents import demo_instance, issue_certificates

#: Per operation; seven operations.
EXAMPLES = 40
#: Inputs that only their content makes valid, which no schema can say: a QR payload
#: (its signature) and an upload (a PDF). A well-formed random one is rightly a 400
#: there, so "schema-valid data is accepted" does not apply; every other check does.
SEMANTIC = frozenset({"/api/v1/qr/{token}", "/api/v1/verify"})


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder: Path = tmp_path_factory.mktemp("fuzz") / "instance"
    app = demo_instance(
        folder,
        4,
        RATE_LIMIT="100000 per minute",
        UPLOAD_RATE_LIMIT="100000 per minute",
        VERIFY_PROCESSES=0,
    )
    issue_certificates(app, 1)
    app.config["TESTING"] = True
    yield app


#: The document as the code states it (the same one ``/api/v1/openapi.json`` serves).
schema = schemathesis.openapi.from_dict(openapi_document())


@schema.parametrize()
@seed(16)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_document_says(case: schemathesis.Case, fuzzed_app: Flask) -> None:
    semantic = case.operation.path in SEMANTIC
    case.call_and_validate(
        app=fuzzed_app, excluded_checks=[positive_data_acceptance] if semantic else []
    )
