"""``manage.py purge_idempotency_records [--older-than HOURS]``: delete the kept answers of API requests sent
with an ``Idempotency-Key`` once they no longer count (``lamp.idempotency.idempotency_records_purge``).

Beat runs the same purge daily (``lamp.tasks.purge_idempotency_records_task``); this is for the shell.
"""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lamp.idempotency import idempotency_records_purge, ttl


class Command(BaseCommand):
    help = (
        "Delete the records of Idempotency-Key requests older than --older-than hours (default: the key "
        "lifetime, IDEMPOTENCY_TTL_HOURS, after which they no longer count; never less)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        default = ttl().total_seconds() / 3600
        parser.add_argument(
            "--older-than",
            type=float,
            default=None,
            metavar="HOURS",
            help=f"age in hours of the records to delete (default and least: {default:g})",
        )

    def handle(self, *args: object, older_than: float | None, **options: object) -> None:
        try:
            retention = None if older_than is None else datetime.timedelta(hours=older_than)
            deleted = idempotency_records_purge(older_than=retention)
        except (ValueError, OverflowError) as refused:
            raise CommandError(f"--older-than {older_than}: {refused}") from refused
        hours = (retention or ttl()).total_seconds() / 3600
        self.stdout.write(f"Deleted {deleted} idempotency record{'s' if deleted != 1 else ''} older than {hours:g} h.")
