"""``manage.py retention_report``: who the retention job would erase, and which of them a case keeps.

The report is kept (the notice the job waits ``RETENTION_NOTICE_DAYS`` on before it erases anyone it lists);
``--dry-run`` prints it without keeping it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from workers.retention import retention_cutoff, retention_report


class Command(BaseCommand):
    help = "List the workers whose personal data the retention job would erase (a dry run), and keep the list."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Print the list without keeping it as a report.")

    def handle(self, *args: Any, **options: Any) -> None:
        run = retention_report(record=not options["dry_run"])
        years = settings.RETENTION_YEARS_AFTER_PILOT_CLOSE
        self.stdout.write(
            f"Pilots closed on or before {retention_cutoff():%Y-%m-%d} ({years} years ago): {len(run.due)} workers due."
        )
        for pk in run.due:
            why = run.skipped.get(pk)
            self.stdout.write(f"  worker {pk}" + (f": kept for now. {why}" if why else ": would be erased."))
        if run.report is not None:
            self.stdout.write(
                f"Kept as report {run.report.pk}: the job erases these workers from "
                f"{settings.RETENTION_NOTICE_DAYS} days after it, if they are still due."
            )
        else:
            self.stdout.write("Dry run: nothing kept.")
