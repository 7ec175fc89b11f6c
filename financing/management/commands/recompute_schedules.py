"""``manage.py recompute_schedules [--contract ID] [--verify]``: the nightly job, from the shell."""

from __future__ import annotations

import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from financing.models import ContractStatus, RbfContract
from financing.services import schedule_recompute, verify_pending_claims


class Command(BaseCommand):
    help = "Recompute the payment schedule of one contract, or of every active contract."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contract", type=int, help="Only this contract (its id).")
        parser.add_argument("--verify", action="store_true", help="Run automatic verification of pending claims first.")

    def handle(self, *args: Any, contract: int | None, verify: bool, **options: Any) -> None:
        if contract is not None:
            if not RbfContract.objects.filter(pk=contract).exists():
                raise CommandError(f"No contract with id {contract}.")
            ids = [contract]
        else:
            ids = list(
                RbfContract.objects.filter(status=ContractStatus.ACTIVE).order_by("pk").values_list("pk", flat=True)
            )
        started = time.monotonic()
        created = updated = deleted = 0
        for done, contract_id in enumerate(ids, start=1):
            if verify:
                verify_pending_claims(contract_id=contract_id)
            result = schedule_recompute(contract_id=contract_id)
            created, updated, deleted = created + result.created, updated + result.updated, deleted + result.deleted
            self._progress(done, len(ids))
        self.stdout.write(
            f"{len(ids)} contract(s) recomputed in {time.monotonic() - started:.1f} s: "
            f"{created} line(s) created, {updated} updated, {deleted} removed."
        )

    def _progress(self, done: int, total: int) -> None:
        """A progress bar on a terminal; nothing in logs and pipes, where it would only be noise."""
        if total < 2 or not getattr(self.stderr._out, "isatty", lambda: False)():
            return
        width = 30
        filled = width * done // total
        self.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending="")
        if done == total:
            self.stderr.write("")
            sys.stderr.flush()
