"""Scope as CSV: read every row, say exactly what is wrong, and show the change it makes.

The file holds the whole scope the body should have after the act, one line
per scope item, with the columns of the agency's scope catalogue plus the
site, the range and the CMC. Nothing is written here: a valid import becomes
the payload of an extension or reduction case, applied only when decided.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from ..refusals import N_
from ..register.models import ScopeItem, Site

#: The columns, in the order a template file lists them.
COLUMNS = (
    "site",
    "field_en",
    "field_th",
    "product_en",
    "product_th",
    "parameter_en",
    "parameter_th",
    "method",
    "range",
    "cmc",
)
REQUIRED = (
    "site",
    "field_en",
    "field_th",
    "product_en",
    "product_th",
    "parameter_en",
    "parameter_th",
    "method",
)
#: The longest value of each column, as the model stores it.
LIMITS = {
    "site": 200,
    "field_en": 200,
    "field_th": 200,
    "product_en": 300,
    "product_th": 300,
    "parameter_en": 300,
    "parameter_th": 300,
    "method": 300,
    "range": 200,
    "cmc": 200,
}
MAX_ROWS = 5000
MAX_BYTES = 2 * 1024 * 1024
#: What makes two lines the same item: a changed range or wording is a change, not a new item.
KEY = ("site_id", "field_en", "product_en", "parameter_en", "method")
COMPARED = ("field_th", "product_th", "parameter_th", "range", "cmc")


@dataclass(frozen=True)
class RowError:
    """One problem, where it is: the line of the file (1 is the header) and the column."""

    line: int
    column: str
    template: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.template % self.params if self.params else self.template


@dataclass(frozen=True)
class ScopeDiff:
    add: list[dict[str, Any]]
    remove: list[int]
    #: (item id, the new row) for lines whose key is the same but whose details changed.
    change: list[dict[str, Any]]
    unchanged: int

    @property
    def empty(self) -> bool:
        return not (self.add or self.remove or self.change)

    def as_payload(self) -> dict[str, Any]:
        return {"add": self.add, "remove": self.remove, "change": self.change}


@dataclass(frozen=True)
class Parsed:
    rows: list[dict[str, Any]]
    errors: list[RowError]


def parse(data: bytes, sites: list[Site]) -> Parsed:
    """Every row of ``data`` checked; a file with any error gives no rows at all."""
    errors: list[RowError] = []
    if len(data) > MAX_BYTES:
        return Parsed([], [RowError(0, "", N_("The file is larger than 2 MB."))])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return Parsed(
            [], [RowError(line, "", N_("The file is not UTF-8 text (save it as CSV UTF-8)."))]
        )
    if "\x00" in text:
        return Parsed([], [RowError(0, "", N_("The file is not a CSV file."))])
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = reader.fieldnames or []
    except csv.Error:
        return Parsed([], [RowError(1, "", N_("The header row cannot be read as CSV."))])
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return Parsed(
            [],
            [
                RowError(1, c, N_("The column %(column)s is missing."), {"column": c})
                for c in missing
            ],
        )
    unknown = [c for c in header if c not in COLUMNS]
    errors += [
        RowError(
            1, c, N_("The column %(column)s is not one of the known columns."), {"column": c[:40]}
        )
        for c in unknown
    ]
    by_id = {str(s.id): s for s in sites}
    by_name = {s.name_en.casefold(): s for s in sites} | {s.name_th.casefold(): s for s in sites}
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[Any, ...], int] = {}
    try:
        for raw in reader:
            line = reader.line_num
            if len(rows) >= MAX_ROWS:
                errors.append(
                    RowError(
                        line, "", N_("A scope has at most %(count)s lines."), {"count": MAX_ROWS}
                    )
                )
                break
            if None in raw:
                errors.append(
                    RowError(line, "", N_("This line has more values than the header has columns."))
                )
                continue
            values = {c: (raw.get(c) or "").strip() for c in COLUMNS}
            if not any(values.values()):
                continue  # blank lines are allowed
            bad = False
            for column in REQUIRED:
                if not values[column]:
                    errors.append(RowError(line, column, N_("This value is required.")))
                    bad = True
            for column, limit in LIMITS.items():
                if len(values[column]) > limit:
                    errors.append(
                        RowError(
                            line, column, N_("At most %(limit)s characters."), {"limit": limit}
                        )
                    )
                    bad = True
                if any(not ch.isprintable() for ch in values[column]):
                    errors.append(
                        RowError(line, column, N_("This value holds control characters."))
                    )
                    bad = True
            site = by_id.get(values["site"]) or by_name.get(values["site"].casefold())
            if values["site"] and site is None:
                errors.append(
                    RowError(
                        line,
                        "site",
                        N_("No site of this body is called %(site)s."),
                        {"site": values["site"][:60]},
                    )
                )
                bad = True
            if bad:
                continue
            assert site is not None
            row = {**{c: values[c] for c in COLUMNS if c != "site"}, "site_id": site.id}
            key = tuple(row[k] for k in KEY)
            if key in seen:
                errors.append(
                    RowError(
                        line, "", N_("This line repeats line %(other)s."), {"other": seen[key]}
                    )
                )
                continue
            seen[key] = line
            rows.append(row)
    except csv.Error:
        errors.append(
            RowError(reader.line_num, "", N_("This line cannot be read as CSV (check the quotes)."))
        )
    if not rows and not errors:
        errors.append(RowError(0, "", N_("The file has no scope lines.")))
    return Parsed([] if errors else rows, errors)


def item_row(item: ScopeItem) -> dict[str, Any]:
    return {
        "site_id": item.site_id,
        "field_en": item.field_en,
        "field_th": item.field_th,
        "product_en": item.product_en,
        "product_th": item.product_th,
        "parameter_en": item.parameter_en,
        "parameter_th": item.parameter_th,
        "method": item.method,
        "range": item.range_text or "",
        "cmc": item.cmc_text or "",
    }


def diff(current: list[ScopeItem], rows: list[dict[str, Any]]) -> ScopeDiff:
    """What the import changes against the items in scope now."""
    now = {tuple(item_row(i)[k] for k in KEY): i for i in current}
    wanted = {tuple(r[k] for k in KEY): r for r in rows}
    add = [r for k, r in wanted.items() if k not in now]
    remove = sorted(i.id for k, i in now.items() if k not in wanted)
    change = [
        {"item": i.id, "row": wanted[k]}
        for k, i in now.items()
        if k in wanted and any(item_row(i)[c] != wanted[k][c] for c in COMPARED)
    ]
    unchanged = len(now) - len(remove) - len(change)
    return ScopeDiff(add, remove, change, unchanged)


def template_csv(items: list[ScopeItem], sites: dict[int, Site]) -> str:
    """The current scope as an import file: edit it and upload it back."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for item in items:
        row = item_row(item)
        writer.writerow([sites[item.site_id].name_en, *(row[c] for c in COLUMNS[1:])])
    return "\ufeff" + out.getvalue()
