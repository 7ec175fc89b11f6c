"""The values a worker's record may hold: a birth date of working age, consent given and not in the future, a
phone number that is one (kept in E.164), a fee at its currency's minor unit and paid within the journey.

Each rule is a plain function of the value and the day (no query, no clock of its own), raising
``ValidationError`` with the message alone; the model's ``clean`` (``Worker.clean``, ``FeeReport.clean``,
so every ``full_clean``: the services the API and the dashboard call, the admin's forms) and the bulk import
(``workers.imports``, which writes with COPY) put it under the field it is about.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext

from lamp.currencies import CURRENCIES, at_minor_unit, get_currency
from pilots.stages import EXITS, Stage

#: A worker is this old, at least and at most, on the day they register: a working age.
MIN_WORKING_AGE = 16
MAX_WORKING_AGE = 75
#: How far ahead of the server's clock a consent time may be (a device's clock a little fast).
CONSENT_CLOCK_TOLERANCE = datetime.timedelta(minutes=5)
#: Recruitment fees are paid before registering: a fee may be paid up to this many years before it.
FEE_YEARS_BEFORE_REGISTRATION = 2
#: The largest fee amount, in units of its currency (a billion đồng is about USD 40,000): more is a typing error.
MAX_FEE_AMOUNT = Decimal("1000000000")


def cleaned_reason(value: Any, *, shortest: int, longest: int, too_short: str) -> tuple[str, str | None]:
    """A reason someone gives for an act on a worker's data (a reveal, an erasure), its spaces collapsed, and why
    it is refused: ``too_short`` (a message with ``%(n)d``) under ``shortest`` characters, or over ``longest``;
    ``None`` when it may be kept."""
    reason = " ".join(str(value or "").split())
    if len(reason) < shortest:
        return reason, too_short % {"n": shortest}
    if len(reason) > longest:
        return reason, gettext("Keep the reason to %(n)d characters at most.") % {"n": longest}
    return reason, None


def age_on(born: datetime.date, day: datetime.date) -> int:
    """How many whole years old someone born on ``born`` is on ``day`` (negative before they are born)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def years_before(day: datetime.date, years: int) -> datetime.date:
    """``day`` ``years`` years earlier (29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def plausible_birth_date(value: datetime.date, today: datetime.date) -> datetime.date:
    """``value`` if someone born then is of working age (``MIN_WORKING_AGE`` to ``MAX_WORKING_AGE``) on
    ``today``, the day they register; else ``ValidationError``."""
    if value > today:
        raise ValidationError(
            gettext("A date of birth cannot be in the future (%(day)s).") % {"day": value.isoformat()},
            code="future_birth_date",
        )
    age = age_on(value, today)
    if not MIN_WORKING_AGE <= age <= MAX_WORKING_AGE:
        raise ValidationError(
            gettext(
                "Born on %(day)s, the worker would be %(age)s years old on %(today)s: a worker is %(low)s to "
                "%(high)s years old when registered. Check the date of birth."
            )
            % {
                "day": value.isoformat(),
                "age": age,
                "today": today.isoformat(),
                "low": MIN_WORKING_AGE,
                "high": MAX_WORKING_AGE,
            },
            code="implausible_birth_date",
        )
    return value


def consent_given_check(value: datetime.datetime | None, now: datetime.datetime) -> datetime.datetime:
    """``value`` if the worker's consent was recorded and not later than ``now`` (give or take
    ``CONSENT_CLOCK_TOLERANCE``); else ``ValidationError``."""
    if value is None:
        raise ValidationError(
            gettext("Say when the worker consented to their data being held for the pilot: it is required."),
            code="required",
        )
    if value > now + CONSENT_CLOCK_TOLERANCE:
        raise ValidationError(
            gettext("Consent cannot be given in the future (%(moment)s).") % {"moment": value.isoformat()},
            code="future_consent",
        )
    return value


def phone_e164(value: str | None, *, region: str) -> str | None:
    """A phone number in E.164 (``+50255550100``), read with the country code it carries or, without a ``+``,
    as a number of ``region`` (the worker's nationality); ``None`` for no number. ``ValidationError`` for
    text that is no valid number."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            gettext("“%(value)s” is not a valid phone number: give it with its country code, e.g. +502 5123 4567.")
            % {"value": text[:40]},
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def fee_amount_check(amount: Decimal, currency: str) -> Decimal:
    """``amount`` if it is a fee ``currency`` can be paid in: not negative (a report of zero says no fee was
    paid), below ``MAX_FEE_AMOUNT`` and a whole number of the currency's minor unit; else ``ValidationError``."""
    if not amount.is_finite() or amount < 0:
        raise ValidationError(gettext("A fee cannot be negative."), code="min_value")
    if amount >= MAX_FEE_AMOUNT:
        raise ValidationError(
            gettext("A fee is less than %(most)s in its currency: check the amount.") % {"most": f"{MAX_FEE_AMOUNT:,}"},
            code="max_value",
        )
    if currency in CURRENCIES and not at_minor_unit(amount, currency):
        places = get_currency(currency).exponent
        raise ValidationError(
            gettext("%(currency)s amounts have no decimals.") % {"currency": currency}
            if places == 0
            else gettext("%(currency)s amounts have at most %(places)s decimals.")
            % {"currency": currency, "places": places},
            code="minor_unit",
        )
    return amount


def fee_paid_on_check(
    paid_on: datetime.date,
    *,
    registered_on: datetime.date,
    journey_ended_on: datetime.date | None,
    today: datetime.date,
) -> datetime.date:
    """``paid_on`` if it lies within the worker's journey: not in the future, not earlier than
    ``FEE_YEARS_BEFORE_REGISTRATION`` years before they registered (fees are paid to be recruited), and not
    after the day their journey ended (an exit, or their return home); else ``ValidationError``."""
    if paid_on > today:
        raise ValidationError(gettext("A fee cannot be paid in the future."), code="future_date")
    earliest = years_before(registered_on, FEE_YEARS_BEFORE_REGISTRATION)
    if paid_on < earliest:
        raise ValidationError(
            gettext(
                "The worker registered on %(registered)s: a fee paid for their recruitment is paid on %(earliest)s "
                "or later."
            )
            % {"registered": registered_on.isoformat(), "earliest": earliest.isoformat()},
            code="before_journey",
        )
    if journey_ended_on is not None and paid_on > journey_ended_on:
        raise ValidationError(
            gettext("The worker's journey ended on %(ended)s: a fee paid later is not a recruitment fee.")
            % {"ended": journey_ended_on.isoformat()},
            code="after_journey",
        )
    return paid_on


# --- On a model's instance: what ``Worker.clean`` and ``FeeReport.clean`` call ------------------------------


def registration_day(worker: Any) -> datetime.date:
    """The day ``worker`` first registered (their first ``registered`` event); today for a new worker."""
    if worker.pk is None:
        return timezone.localdate()
    first = (
        worker.journey_events.filter(stage=Stage.REGISTERED)
        .order_by("occurred_on", "id")
        .values_list("occurred_on", flat=True)
        .first()
    )
    if first is not None:
        return first
    return timezone.localdate(worker.created_at) if worker.created_at else timezone.localdate()


def journey_end(worker: Any) -> datetime.date | None:
    """The day ``worker``'s journey ended (an exit, or their return home); ``None`` while it goes on."""
    if worker.current_stage in EXITS or worker.current_stage == Stage.RETURNED:
        return worker.stage_changed_on
    return None


def _collect(errors: dict[str, list[ValidationError]], field: str, check: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return check(*args, **kwargs)
    except ValidationError as error:
        errors.setdefault(field, []).append(error)
        return None


def worker_values_check(worker: Any) -> None:
    """``Worker.clean``: the birth date is of working age on the day of registration, consent is given (for a
    new worker) and not in the future, and the phone is a valid number, which is kept in E.164."""
    errors: dict[str, list[ValidationError]] = {}
    if isinstance(worker.date_of_birth, datetime.date):
        _collect(errors, "date_of_birth", plausible_birth_date, worker.date_of_birth, registration_day(worker))
    if worker._state.adding or worker.consent_given_at is not None:
        _collect(errors, "consent_given_at", consent_given_check, worker.consent_given_at, timezone.now())
    if worker.phone:
        phone = _collect(errors, "phone", phone_e164, worker.phone, region=str(worker.nationality or ""))
        if phone is not None:
            worker.phone = phone
    else:
        worker.phone = None  # encrypted fields keep NULL for "none"
    if errors:
        raise ValidationError(errors)


def fee_report_values_check(report: Any) -> None:
    """``FeeReport.clean``: the amount at its currency's minor unit and below ``MAX_FEE_AMOUNT``, and the day
    it was paid within the worker's journey."""
    errors: dict[str, list[ValidationError]] = {}
    if isinstance(report.amount, Decimal):
        _collect(errors, "amount", fee_amount_check, report.amount, report.currency)
    if report.paid_on is not None and report.worker_id is not None:
        worker = report.worker
        _collect(
            errors,
            "paid_on",
            fee_paid_on_check,
            report.paid_on,
            registered_on=registration_day(worker),
            journey_ended_on=journey_end(worker),
            today=timezone.localdate(),
        )
    if errors:
        raise ValidationError(errors)
