"""Whole numbers in URLs: ASCII digits within bounds, or a 400 in the right shape."""

from __future__ import annotations

import pytest

from registry.web.parameters import BadParameter, whole_number

#: Each was once a 500 ('²': isdigit() yes, int() no) or read as something else.
BAD_NUMBERS = ["²", "99999999999999999999", "-1", "0", "+1", " 1", "1_0", "٣", "1.5", "abc"]
HTML_ROUTES = ["/?page={}", "/search?page={}", "/a/Testing-0001?page={}", "/a/Testing-0001?site={}"]
API_ROUTES = [
    "/api/v1/search?page={}",
    "/api/v1/accreditations/Testing-0001?page={}",
    "/api/v1/accreditations/Testing-0001?site={}",
]


@pytest.mark.parametrize("raw", ["1", "42", "007", "10000"])
def test_ascii_digits_within_bounds_are_read(raw):
    assert whole_number({"page": raw}, "page", default=1, low=1, high=10_000) == int(raw)


def test_an_absent_or_empty_parameter_is_the_default():
    assert whole_number({}, "page", default=1, low=1, high=9) == 1
    assert whole_number({"site": ""}, "site", default=None, low=1, high=9) is None


@pytest.mark.parametrize("raw", BAD_NUMBERS)
def test_anything_else_is_refused_with_the_parameter_named(raw):
    with pytest.raises(BadParameter, match="parameter page must be a"):
        whole_number({"page": raw}, "page", default=1, low=1, high=10_000)


@pytest.mark.parametrize("route", HTML_ROUTES)
@pytest.mark.parametrize("raw", ["²", "99999999999999999999", "-1", "٣"])
def test_html_pages_refuse_a_bad_number_with_the_error_page(client, route, raw):
    response = client.get(route.format(raw), headers={"Accept": "text/html"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "This request cannot be answered" in page and "Traceback" not in page
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("route", API_ROUTES)
@pytest.mark.parametrize("raw", ["²", "99999999999999999999", "-1", "٣"])
def test_the_api_refuses_a_bad_number_in_the_one_json_shape(client, route, raw):
    response = client.get(route.format(raw))
    assert response.status_code == 400
    error = response.json["error"]
    assert set(error) == {"code", "title", "detail"}
    assert error["code"] == "bad_parameter"
    assert "must be a" in error["detail"]


def test_the_refusal_is_in_thai_for_thai_readers(client):
    response = client.get("/api/v1/search?page=²&lang=th")
    assert response.status_code == 400
    assert "ต้องเป็นจำนวนเต็ม" in response.json["error"]["detail"]


@pytest.mark.parametrize("path", ["/cab/٣", "/api/v1/cabs/٣", "/cab/9999999999999999999999"])
def test_path_numbers_are_ascii_digits_too(client, path):
    assert client.get(path).status_code == 404
