"""A site and a scope line as plain data: the same in record pages, the API and open data."""

from __future__ import annotations

from typing import Any

from .models import ScopeItem, Site
from .status import ItemState


def site_json(site: Site) -> dict[str, Any]:
    return {
        "id": site.id,
        "name_en": site.name_en,
        "name_th": site.name_th,
        "address_en": site.address_en,
        "address_th": site.address_th,
        "province_en": site.province_en,
        "province_th": site.province_th,
        "country": site.country,
    }


def scope_line(item: ScopeItem) -> dict[str, Any]:
    """What one scope line says: in record pages, open data and the log's scope digests."""
    return {
        "id": item.id,
        "site_id": item.site_id,
        "field_en": item.field_en,
        "field_th": item.field_th,
        "product_en": item.product_en,
        "product_th": item.product_th,
        "parameter_en": item.parameter_en,
        "parameter_th": item.parameter_th,
        "method": item.method,
        "range": item.range_text,
        "cmc": item.cmc_text,
    }


def scope_item_json(item: ScopeItem, state: ItemState) -> dict[str, Any]:
    """A scope line with its state at the moment asked about."""
    return {**scope_line(item), "status": state.value}
