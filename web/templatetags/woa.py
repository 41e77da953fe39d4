"""Template filters: money as ¥1,236.50, dates as 2024-03-15."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

register = template.Library()


def format_yuan(value: Any) -> str:
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value).replace(",", "").replace("¥", "").strip())
    except InvalidOperation:
        return str(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


@register.filter
def yuan(value: Any) -> str:
    return format_yuan(value)


@register.filter
def isodate(value: Any) -> str:
    if not value:
        return ""
    if hasattr(value, "strftime"):
        return str(value.strftime("%Y-%m-%d"))
    return str(value)[:10]


@register.filter
def get(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def json_script_safe(value: Any) -> str:
    """JSON for a data- attribute (autoescaping quotes it for the attribute)."""
    import json

    return json.dumps(value, ensure_ascii=False)
