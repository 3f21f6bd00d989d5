"""Fixtures the registry's API and page tests share (each module brings its own ``app``)."""

from __future__ import annotations

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_spec_validator import validate

from registry.api.openapi import openapi_document


@pytest.fixture(scope="module")
def spec():
    """The OpenAPI document, checked as valid 3.1, for validating answers against it."""
    document = openapi_document()
    validate(document)
    return OpenAPI.from_dict(document)


@pytest.fixture
def get(app, spec):
    """GET through the test client; JSON answers are validated against the spec."""
    client = app.test_client()

    def fetch(url: str, **kwargs):
        response = client.get(url, **kwargs)
        assert b"Traceback" not in response.data
        if response.mimetype == "application/json" and url.startswith("/api/v1/"):
            spec.validate_response(
                WerkzeugOpenAPIRequest(response.request), WerkzeugOpenAPIResponse(response)
            )
        return response

    return fetch
