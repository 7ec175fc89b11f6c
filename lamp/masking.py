"""Masked display of personal data: enough to recognise a record, never enough to misuse it."""

from __future__ import annotations

import datetime

MASK = "•"


def mask_tail(value: str | None, *, visible: int = 4) -> str:
    """``"A12345678"`` -> ``"•••••5678"``; short values are masked whole."""
    if not value:
        return ""
    value = str(value)
    if len(value) <= visible * 2:
        return MASK * len(value)
    return MASK * (len(value) - visible) + value[-visible:]


def mask_date(value: datetime.date | None) -> str:
    """A date of birth shown as its year only: ``1994-••-••``."""
    if value is None:
        return ""
    return f"{value.year}-{MASK * 2}-{MASK * 2}"
