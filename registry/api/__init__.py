"""``/api/v1``: the JSON twin of every public page, and its OpenAPI document."""
