"""Benchmark of the bulk worker import: 10,000 rows in atomic mode (target: under 5 s).

    python benchmarks/import_workers.py [--rows 10000]

Runs on a scratch database created beside the configured one (the embedded PostgreSQL by default,
or DATABASE_URL) and dropped at the end. Prints, in one run:

- an atomic import of ``--rows`` generated rows (every field, identity documents and phones encrypted),
  its time and rows per second;
- the same number of rows again with one bad row: every row checked, nothing written, one error;
- a partial import of the same file with the bad row: the good rows written.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lamp.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from pilots.models import Organisation, Pilot, Sector, User  # noqa: E402
from recruitment.models import Recruiter, RecruiterAssignment  # noqa: E402
from workers.imports import import_workers  # noqa: E402
from workers.models import JourneyEvent, Worker  # noqa: E402

GENDERS = ("female", "male", "non_binary", "undisclosed")


def seed() -> tuple[User, Recruiter, Pilot]:
    sector = Sector.objects.create(code="agriculture", name="Agriculture")
    pilot = Pilot.objects.create(
        name="Bench", slug="bench", sector=sector, origin_countries=["GT"], destination_country="US",
        pathway="H-2A", status="active", start_date=datetime.date(2026, 1, 1), target_cohort_size=100_000,
    )
    agency = Organisation.objects.create(name="Agency", kind="recruiter", country="GT")
    recruiter = Recruiter.objects.create(organisation=agency, licence_number="B-1", licence_country="GT")
    RecruiterAssignment.objects.create(recruiter=recruiter, pilot=pilot, quota=100_000, assigned_on=pilot.start_date)
    user = User.objects.create(username="bench-recruiter", role="recruiter", organisation=agency)
    return user, recruiter, pilot


def rows(count: int, pilot: Pilot, *, start: int = 0) -> list[dict[str, str]]:
    """CSV-like rows (every value a string), each a different person."""
    return [
        {
            "given_names": f"Worker {n}",
            "family_names": "Bench",
            "date_of_birth": (datetime.date(1980, 1, 1) + datetime.timedelta(days=n % 9000)).isoformat(),
            "gender": GENDERS[n % 4],
            "nationality": "GT",
            "pilot": str(pilot.pk),
            "phone": f"+502 5{n:07d}",
            "email": f"worker{n}@example.org",
            "identity_document_type": "passport",
            "identity_document_number": f"B{n:09d}",
            "language_levels": "es:C2;en:A2",
            "consent_given_at": "2026-01-05T09:00:00Z",
        }
        for n in range(start, start + count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()

    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        print(f"database: {test_db} (scratch, dropped at the end)")
        user, recruiter, pilot = seed()

        good = rows(args.rows, pilot)
        started = time.perf_counter()
        result = import_workers(rows=good, mode="atomic", user=user, recruiter=recruiter)
        elapsed = time.perf_counter() - started
        assert result.count == args.rows and not result.errors, result.errors[:3]
        assert JourneyEvent.objects.count() == args.rows
        print(f"atomic import, {args.rows:,} rows:       {elapsed:6.2f} s  {args.rows / elapsed:,.0f} rows/s"
              f"  (target < 5 s)")

        # A second file of new people against the 10,000 now in the table (the duplicate checks read them).
        second = rows(args.rows, pilot, start=args.rows)
        second[args.rows // 2]["date_of_birth"] = "1995-02-30"
        before = Worker.objects.count()
        started = time.perf_counter()
        refused = import_workers(rows=second, mode="atomic", user=user, recruiter=recruiter)
        elapsed = time.perf_counter() - started
        assert refused.count == 0 and len(refused.errors) == 1 and Worker.objects.count() == before
        print(f"atomic, one bad row:               {elapsed:6.2f} s  nothing written, {len(refused.errors)} error:"
              f" row {refused.errors[0]['row']} {refused.errors[0]['field']}")

        started = time.perf_counter()
        partial = import_workers(rows=second, mode="partial", user=user, recruiter=recruiter)
        elapsed = time.perf_counter() - started
        assert partial.count == args.rows - 1 and len(partial.errors) == 1
        print(f"partial, one bad row:              {elapsed:6.2f} s  {partial.count:,} written,"
              f" {len(partial.errors)} returned  ({partial.count / elapsed:,.0f} rows/s)")
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
