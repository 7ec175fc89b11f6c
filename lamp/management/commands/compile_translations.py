"""``manage.py compile_translations [--force]``: compile ``locale/*.po`` to ``.mo`` without GNU gettext
(``lamp.i18n``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from lamp.i18n import compile_catalogues


class Command(BaseCommand):
    help = "Compile the project's translations (.po to .mo), without GNU gettext."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="compile every catalogue, changed or not")

    def handle(self, *args: Any, force: bool, **options: Any) -> None:
        for path in compile_catalogues(force=force):
            self.stdout.write(f"compiled {path}")
