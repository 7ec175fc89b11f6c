"""Field types shared by every app, so money and currencies are stored one way everywhere."""

from __future__ import annotations

from typing import Any

from django.db import models

from lamp.currencies import CURRENCY_CHOICES

# Three decimals hold the minor unit of every ISO 4217 currency in use (KWD, BHD, OMR have three);
# amounts are rounded to their own currency's exponent by the services that compute them.
MONEY_MAX_DIGITS = 15
MONEY_DECIMAL_PLACES = 3


class MoneyField(models.DecimalField):
    """An amount of money; always stored beside a ``CurrencyField``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", MONEY_MAX_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_DECIMAL_PLACES)
        super().__init__(*args, **kwargs)


class CurrencyField(models.CharField):
    """An ISO 4217 currency code from ``lamp.currencies``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 3)
        kwargs.setdefault("choices", CURRENCY_CHOICES)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        # The choices live in code; keeping them out of migrations means adding a currency needs none.
        kwargs.pop("choices", None)
        if kwargs.get("max_length") == 3:
            kwargs.pop("max_length")
        return name, path, args, kwargs
