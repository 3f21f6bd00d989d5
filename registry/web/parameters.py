"""Numbers in URL parameters: ASCII digits only, within bounds, or a 400 that says why.

``str.isdigit()`` accepts '²' and '٣', and ``int()`` accepts '٣', ' 3', '+3'
and '3_000' but not '²': a page number checked one way and read the other
gave a 500. Every view reads its whole-number parameters through
``whole_number`` so that the check and the reading are one, and an unusable
value is refused the same way on every page and in the API. Numbers in paths
(``<int:...>``) get the same rule: Werkzeug's ``\\d`` matches '٣' as 3.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import overload

from flask import Flask
from werkzeug.routing import IntegerConverter

from ..refusals import N_, Refused

#: More digits than any bound we set; refused before ``int()`` ever sees them.
MAX_DIGITS = 18
DIGITS = frozenset("0123456789")


class BadParameter(Refused):
    """A URL parameter that is not a whole number within its bounds (answered as 400)."""


@overload
def whole_number(
    args: Mapping[str, str], name: str, *, default: int, low: int, high: int
) -> int: ...
@overload
def whole_number(
    args: Mapping[str, str], name: str, *, default: None, low: int, high: int
) -> int | None: ...
def whole_number(
    args: Mapping[str, str], name: str, *, default: int | None, low: int, high: int
) -> int | None:
    """``args[name]`` as an int in ``low..high``; ``default`` when absent or empty.

    Only the ASCII digits 0 to 9 are accepted: no sign, space, underscore or
    other script's digits, so what the page shows is what was asked for.
    """
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if len(raw) > MAX_DIGITS or not DIGITS.issuperset(raw):
        raise BadParameter(
            N_("The parameter %(name)s must be a whole number written with the digits 0 to 9."),
            name=name[:40],
        )
    value = int(raw)
    if not low <= value <= high:
        raise BadParameter(
            N_("The parameter %(name)s must be a number from %(low)d to %(high)d."),
            name=name[:40],
            low=low,
            high=high,
        )
    return value


class AsciiInteger(IntegerConverter):
    """``<int:...>`` in a path: at most ``MAX_DIGITS`` ASCII digits, or no match (404)."""

    regex = f"[0-9]{{1,{MAX_DIGITS}}}"


def init_app(app: Flask) -> None:
    """Before any blueprint: the converter is looked up when a rule is added."""
    app.url_map.converters["int"] = AsciiInteger
