"""How a contract's prices read, in one set of words for the contract page, the verification queue and the
admin: ``USD 1,100.00 each for the first 24 units, USD 1,350.00 for every further unit``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lamp.currencies import format_money


def units_in_words(n: int) -> str:
    """``1 unit``, ``24 units``."""
    return ngettext("%(n)s unit", "%(n)s units", n) % {"n": f"{n:,}"}


def tiers_in_words(tiers: Iterable[Mapping[str, Any]], currency: str) -> str:
    """A tiered price: ``USD 1,100.00 each for the first 24 units, USD 1,350.00 for every further unit``."""
    parts = []
    for index, tier in enumerate(tiers):
        price = format_money(Decimal(str(tier["price"])), currency)
        if tier.get("units") is None:
            parts.append(_("%(price)s for every further unit") % {"price": price})
        else:
            words = {"price": price, "units": units_in_words(tier["units"])}
            first = index == 0
            parts.append(
                (_("%(price)s each for the first %(units)s") if first else _("%(price)s each for the next %(units)s"))
                % words
            )
    return ", ".join(parts)


def price_in_words(*, price: Decimal | None, tiers: Iterable[Mapping[str, Any]] | None, currency: str) -> str:
    """A metric's price: ``USD 500.00 for each verified unit``, or its tiers."""
    if price is not None:
        return _("%(price)s for each verified unit") % {"price": format_money(price, currency)}
    return _("Priced in tiers: %(tiers)s") % {"tiers": tiers_in_words(tiers or [], currency)}
