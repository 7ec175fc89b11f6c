"""Field types shared by every app, so money and currencies are stored one way everywhere."""

from __future__ import annotations

from typing import Any

from django.db import models

from lamp.currencies import CURRENCY_CHOICES
from lamp.masking import mask_tail

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


class MaskedCopyField(models.CharField):
    """The masked form of another (encrypted) field of the same row, kept in step with it on every write.

    ``phone_masked = MaskedCopyField(source="phone", visible=3)`` stores ``"•••••••123"``. Lists show the
    masked value; reading it from its own column spares decrypting every row of a page (Fernet costs
    about 27 µs a value, two per worker). ``pre_save`` recomputes it on every ``save()`` and in
    ``bulk_create``; a ``save(update_fields=…)`` that names the source must name this field too (the
    model's ``save`` adds it), and a raw write (COPY) must compute it with ``masked``.
    """

    def __init__(self, *args: Any, source: str, visible: int = 4, **kwargs: Any) -> None:
        self.source, self.visible = source, visible
        kwargs.setdefault("max_length", 80)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs["editable"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[str, str, list[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        kwargs.update(source=self.source, visible=self.visible)
        for key, value in (("max_length", 80), ("blank", True), ("default", "")):
            if kwargs.get(key) == value:
                kwargs.pop(key)
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def masked(self, value: str | None) -> str:
        return mask_tail(value, visible=self.visible)

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = self.masked(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value
