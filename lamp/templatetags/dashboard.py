"""Formatting for the dashboard's templates: money, rates, bar lengths and query strings.

The names of journey stages are ``pilots``' own filters (``{% load stages %}``): the vocabulary lives there.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django import template
from django.utils import formats, timezone

from lamp.currencies import format_money

register = template.Library()

#: The one format of a day and of a moment on every page (month names follow the active language).
DAY_FORMAT = "d M Y"
DAY_TIME_FORMAT = "d M Y, H:i"


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    """``{{ amount|money:"USD" }}`` -> ``USD 1,250.00``; an empty amount is ``—``."""
    if amount is None:
        return "—"
    return format_money(amount, currency)


@register.filter
def signed_money(amount: Decimal | None, currency: str) -> str:
    """``{{ amount|signed_money:"USD" }}`` -> ``+USD 50.00`` / ``-USD 7,450.00``: for a change, an adjustment."""
    return format_money(amount, currency, signed=True)


@register.filter
def day(value: datetime.date | datetime.datetime | None) -> str:
    """``{{ date|day }}`` -> ``02 Dec 2026`` (``02 dic 2026`` in Spanish): the one way a page writes a day."""
    if value is None:
        return "—"
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return formats.date_format(value, DAY_FORMAT)


@register.filter
def day_time(value: datetime.datetime | None) -> str:
    """``{{ moment|day_time }}`` -> ``02 Dec 2026, 14:05`` in the platform's time zone."""
    if value is None:
        return "—"
    return formats.date_format(timezone.localtime(value) if timezone.is_aware(value) else value, DAY_TIME_FORMAT)


@register.filter
def get_item(mapping: Mapping[Any, Any] | None, key: Any) -> Any:
    """``{{ labels|get_item:code }}``: a dictionary's value in a template; missing is empty."""
    return (mapping or {}).get(key, "")


@register.filter
def pct(rate: Decimal | float | None, places: int = 1) -> str:
    """A rate between 0 and 1 as a percentage: ``0.8333`` -> ``83.3 %``; no rate is ``—``."""
    if rate is None:
        return "—"
    return f"{Decimal(rate) * 100:.{int(places)}f} %"


@register.simple_tag
def share(part: Decimal | int | None, whole: Decimal | int | None) -> str:
    """``part / whole`` as a CSS percentage for a bar's width, clamped to 0–100; ``0%`` when whole is empty."""
    if not part or not whole:
        return "0%"
    value = max(Decimal(0), min(Decimal(100), Decimal(part) * 100 / Decimal(whole)))
    return f"{value:.2f}%"


@register.simple_tag(takes_context=True)
def query_with(context: template.Context, **changes: object) -> str:
    """The current query string with some parameters changed (``None`` or ``""`` removes one).

    For links that keep the filters of a list: ``?{% query_with cursor=None stage="deployed" %}``.
    """
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return params.urlencode()
