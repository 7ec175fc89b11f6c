"""``manage.py seed_demo [--workers N] [--seed S] [--password P]``: the demo world of DESIGN.md.

Thin on purpose: ``programme.demo.seed_demo`` does the work. Safe to run again: it creates nothing twice and
sets the demo logins' password to the one it prints.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from programme.demo import DEFAULT_PASSWORD, DEFAULT_SEED, DEFAULT_WORKERS, DemoResult, seed_demo


class Command(BaseCommand):
    help = "Create the demo pilots, partners, workers and contracts (deterministic, safe to run twice)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--workers", type=int, default=None, help=f"how many workers in all (default: {DEFAULT_WORKERS})"
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the random choices")
        parser.add_argument(
            "--password",
            default="",
            help=f"password of the demo logins (default: $DEMO_PASSWORD, else {DEFAULT_PASSWORD})",
        )

    def handle(self, *args: Any, workers: int | None, seed: int, password: str, **options: Any) -> None:
        password = password or os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
        try:
            result = seed_demo(
                workers=DEFAULT_WORKERS if workers is None else workers,
                seed=seed,
                password=password,
                progress=self._progress,
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        self._report(result, requested=workers)

    def _progress(self, done: int, total: int) -> None:
        self.stdout.write(f"  {done:,} of {total:,} workers written")

    def _report(self, result: DemoResult, *, requested: int | None) -> None:
        if result.created:
            self.stdout.write(self.style.SUCCESS(f"Created the demo world with {result.workers:,} workers."))
        else:
            note = "" if requested in (None, result.workers) else f" (--workers {requested:,} ignored)"
            self.stdout.write(f"The demo's {result.workers:,} workers already exist{note}; reference data checked.")
        self.stdout.write(f"{'pilot':<62} {'workers':>8} {'on job':>7} {'exited':>7} {'season 2+':>9}  claims")
        for pilot in result.pilots:
            claims = ", ".join(f"{status} {n:,}" for status, n in sorted(pilot.claims.items())) or "none"
            self.stdout.write(
                f"{pilot.name[:62]:<62} {pilot.workers:>8,} {pilot.deployed:>7,} {pilot.exited:>7,} "
                f"{pilot.returning:>9,}  {claims}"
            )
        self.stdout.write("Logins (password for all: " + result.password + "):")
        for username, role, organisation in result.logins:
            self.stdout.write(f"  {username:<10} {role}" + (f" — {organisation}" if organisation else ""))
        if result.check_in is not None:
            path, worker = result.check_in
            self.stdout.write(f"A worker's check-in, as {worker} would open it on their phone (no login): {path}")
