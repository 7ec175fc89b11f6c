"""Masked display of personal data: enough to recognise a record, never enough to misuse it."""

from __future__ import annotations

import datetime
import re

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


def mask_email(value: str | None) -> str:
    """``"maria.lopez@example.org"`` -> ``"m••••••••••@example.org"``: the first character and the domain."""
    if not value:
        return ""
    local, at, domain = str(value).rpartition("@")
    if not at:
        return MASK * len(str(value))
    if len(local) <= 1:
        return f"{MASK}@{domain}"
    return f"{local[0]}{MASK * (len(local) - 1)}@{domain}"


#: Document-number-shaped runs in free text: six digits or more (spaces, dots and dashes inside allowed, as
#: printed: ``123 456 789``, ``12-345-678``), or a passport-like one or two letters then six to nine digits
#: (``P4470181``, ``AB1234567``). Not a run inside a longer word (``ref2024abc``).
DOCUMENT_IN_TEXT = re.compile(r"(?<![\w])(?:[A-Za-z]{1,2}\d{6,9}[A-Za-z]?|\d(?:[\s.\-]?\d){5,})(?![\w])")
#: How many last characters of a masked number stay readable.
TEXT_TAIL = 4


def mask_documents_in_text(text: str) -> str:
    """``"US H-2A visa no. 123456789"`` -> ``"US H-2A visa no. •••••6789"``: every document-number-shaped run
    (``DOCUMENT_IN_TEXT``) masked but its last four characters, the rest of the text as it was.

    Dates written as ``2026-03-14`` or ``14.03.2026`` have eight digits split into short groups and stay as
    they are; an amount of six digits or more (``1500000``) is masked too: free text is no place for it.
    """
    if not text:
        return text

    def masked(match: re.Match[str]) -> str:
        run = match.group(0)
        if _DATE.fullmatch(run):
            return run
        compact = re.sub(r"[\s.\-]", "", run)
        return MASK * (len(compact) - TEXT_TAIL) + compact[-TEXT_TAIL:]

    return DOCUMENT_IN_TEXT.sub(masked, text)


_DATE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{4}")
