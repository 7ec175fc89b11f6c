"""``manage.py simulate_contract FILE|-``: a contract scenario's JSON in, its payment schedule's JSON out.

Thin on purpose: ``financing.scenario.simulate`` does the work, as it does for the API. Bad input ends
with ``error: <field>: <message>`` on standard error and exit status 2, never a traceback, so the command
can sit in scripts that test a set of scenarios.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandParser

from financing.scenario import ScenarioError, simulate

BAD_INPUT = 2


class Command(BaseCommand):
    help = "Compute the payment schedule of a contract scenario (JSON, see rbf-scenario.md); '-' reads stdin."
    requires_system_checks: list[str] = []  # pure computation: no model, no database, so nothing to check

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the scenario as JSON, or - to read it from standard input")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        source = "<stdin>" if file == "-" else file
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except OSError as error:
            self._fail(source, f"cannot read: {error.strerror or error}")
        except UnicodeDecodeError as error:
            self._fail(source, f"cannot read: not UTF-8 ({error.reason} at byte {error.start})")
        try:
            data = json.loads(text)
        except ValueError as error:  # JSONDecodeError, or an integer too long to convert
            self._fail(source, f"invalid JSON: {error}")
        except RecursionError:
            self._fail(source, "invalid JSON: nested too deeply")
        try:
            result = simulate(data)
        except ScenarioError as error:
            self._fail(error.field, error.message)
        self.stdout.write(json.dumps(result, indent=2))

    def _fail(self, field: str, message: str) -> NoReturn:
        # Not CommandError: manage.py would print it as "CommandError: ..." and exit with status 1.
        self.stderr.write(f"error: {field}: {message}")
        sys.exit(BAD_INPUT)
