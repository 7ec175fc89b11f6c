"""ISO 4217 currencies the platform handles, with their minor-unit exponents.

Money is always a ``Decimal`` paired with one of these codes. Amounts are rounded to the
currency's minor unit (``exponent`` decimals) half-up, so the exponent must be right: JPY has
none, KWD has three. The list covers the pilots' corridors (origin and destination countries)
and the usual funder currencies; add a row to support another one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cached_property

from django.utils.formats import number_format


@dataclass(frozen=True)
class Currency:
    code: str
    name: str
    exponent: int

    @cached_property
    def quantum(self) -> Decimal:
        """The smallest amount of this currency, e.g. ``Decimal("0.01")`` for USD."""
        return Decimal(1).scaleb(-self.exponent)


CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in (
        Currency("AUD", "Australian dollar", 2),
        Currency("BDT", "Bangladeshi taka", 2),
        Currency("BHD", "Bahraini dinar", 3),
        Currency("BRL", "Brazilian real", 2),
        Currency("CAD", "Canadian dollar", 2),
        Currency("CHF", "Swiss franc", 2),
        Currency("CLP", "Chilean peso", 0),
        Currency("COP", "Colombian peso", 2),
        Currency("CRC", "Costa Rican colón", 2),
        Currency("DOP", "Dominican peso", 2),
        Currency("EUR", "Euro", 2),
        Currency("GBP", "Pound sterling", 2),
        Currency("GHS", "Ghanaian cedi", 2),
        Currency("GTQ", "Guatemalan quetzal", 2),
        Currency("HNL", "Honduran lempira", 2),
        Currency("HTG", "Haitian gourde", 2),
        Currency("IDR", "Indonesian rupiah", 2),
        Currency("INR", "Indian rupee", 2),
        Currency("JMD", "Jamaican dollar", 2),
        Currency("JOD", "Jordanian dinar", 3),
        Currency("JPY", "Japanese yen", 0),
        Currency("KES", "Kenyan shilling", 2),
        Currency("KRW", "South Korean won", 0),
        Currency("KWD", "Kuwaiti dinar", 3),
        Currency("LKR", "Sri Lankan rupee", 2),
        Currency("MAD", "Moroccan dirham", 2),
        Currency("MXN", "Mexican peso", 2),
        Currency("NGN", "Nigerian naira", 2),
        Currency("NIO", "Nicaraguan córdoba", 2),
        Currency("NPR", "Nepalese rupee", 2),
        Currency("NZD", "New Zealand dollar", 2),
        Currency("OMR", "Omani rial", 3),
        Currency("PEN", "Peruvian sol", 2),
        Currency("PHP", "Philippine peso", 2),
        Currency("PKR", "Pakistani rupee", 2),
        Currency("QAR", "Qatari riyal", 2),
        Currency("SAR", "Saudi riyal", 2),
        Currency("SGD", "Singapore dollar", 2),
        Currency("TND", "Tunisian dinar", 3),
        Currency("UGX", "Ugandan shilling", 0),
        Currency("USD", "US dollar", 2),
        Currency("VND", "Vietnamese đồng", 0),
        Currency("XOF", "West African CFA franc", 0),
    )
}

CURRENCY_CHOICES: list[tuple[str, str]] = [(c.code, f"{c.code} — {c.name}") for c in CURRENCIES.values()]


class UnknownCurrency(ValueError):
    """Raised for a code that is not an ISO 4217 currency the platform handles."""


def get_currency(code: str) -> Currency:
    try:
        return CURRENCIES[code]
    except (KeyError, TypeError):
        raise UnknownCurrency(f"unknown currency {code!r}: expected an ISO 4217 code such as USD") from None


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round ``amount`` to the currency's minor unit, half-up."""
    return amount.quantize(get_currency(currency).quantum, rounding=ROUND_HALF_UP)


def at_minor_unit(amount: Decimal, currency: str) -> bool:
    """Whether ``amount`` is a whole number of the currency's minor unit: ``1.00`` and ``1.5`` USD are,
    ``1.001`` USD and ``1500.5`` JPY are not. Trailing zeros do not count (``1500.00`` JPY is 1,500 yen)."""
    if not amount.is_finite():
        return False
    try:
        return amount == amount.quantize(get_currency(currency).quantum, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the decimal context holds: no amount of money
        return False


def format_money(amount: Decimal | None, currency: str, *, signed: bool = False) -> str:
    """``Decimal("1500"), "USD"`` -> ``"USD 1,500.00"``: the one display form of money, in admin, pages, emails.

    The digits follow the active language (``USD 1.500,00`` in Spanish); a negative amount reads
    ``-USD 7,450.00`` and, ``signed``, a positive one ``+USD 50.00``. No amount is ``—``.
    """
    if amount is None:
        return "—"
    exponent = get_currency(currency).exponent if currency in CURRENCIES else 2
    digits = number_format(abs(amount), decimal_pos=exponent, use_l10n=True, force_grouping=True)
    sign = "-" if amount < 0 else ("+" if signed and amount > 0 else "")
    return f"{sign}{currency} {digits}"
