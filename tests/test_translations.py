"""Every word a person reads has its Spanish; what a worker reads has its Tagalog too."""

from __future__ import annotations

from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def test_spanish_is_complete():
    untranslated = [entry.msgid for entry in catalogue("es") if not entry.translated() or entry.fuzzy]
    assert untranslated == []


def test_tagalog_covers_what_a_worker_reads():
    spanish = {entry.msgid for entry in catalogue("es")}
    tagalog = {entry.msgid: entry for entry in catalogue("tl")}
    assert set(tagalog) == spanish  # one catalogue of the same words
    from django.template.loader import get_template

    worker_words = [
        "Did you pay any money to anyone to get this job, or for anything needed for it?",
        "Thank you: we received your answers.",
        "This link does not work.",
        "A few questions about your job. Your answers are private: %(link)s",
        "Day 90 of the job",
    ]
    assert get_template("checkins/check_in.html")
    for msgid in worker_words:
        assert tagalog[msgid].translated(), msgid
