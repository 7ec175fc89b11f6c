"""Benchmark of the staff dashboard's pages over the demo world with 100,000 workers.

    python benchmarks/dashboard.py [--workers 100000] [--repeat 15]

Runs on a scratch database created beside the configured one (the embedded PostgreSQL by default, or
DATABASE_URL) and dropped at the end. It seeds the demo world (``seed_demo``) with ``--workers`` workers,
runs ``ANALYZE`` as autovacuum would after a bulk load, then requests each page in-process through
Django's test client as a logged-in staff member (and the funder for two pages), ``--repeat`` times after
two warm-up requests (connections kept between requests, ``CONN_MAX_AGE=60``, as in production), and
prints for each page its query count and the p50 and max of its server time
(the whole request: middleware, view, queries and template). Targets: at most 12 queries on every page,
whatever the data size; p50 under 150 ms for the overview, a pilot page, the worker list and the
verification queue (the other pages are measured too).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lamp.settings")
# Connections kept between requests, as in production (development opens one per request).
os.environ.setdefault("CONN_MAX_AGE", "60")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from benchmarks.world import seed_demo_world  # noqa: E402
from financing.models import ClaimStatus, OutcomeClaim, RbfContract  # noqa: E402
from pilots.models import User  # noqa: E402
from workers.models import Worker  # noqa: E402

MAX_QUERIES = 12
TARGET_P50_MS = 150.0


def measure(client: Client, path: str, repeat: int) -> tuple[int, int, list[float]]:
    """(status, queries, server times in ms) of ``repeat`` requests for ``path``, after two warm-ups."""
    for _ in range(2):
        client.get(path)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    # Counted now: the next request opens a new connection, which empties the log the count is read from.
    count = len(queries.captured_queries)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    return response.status_code, count, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=100_000, help="workers in the demo world (default 100,000)")
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per page (default 15)")
    args = parser.parse_args()

    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        print(f"database: {test_db} (scratch, dropped at the end)")
        total = seed_demo_world(args.workers)

        busiest = Worker.objects.values("pilot_id").annotate(n=Count("id")).order_by("-n", "pilot_id").first()
        contract = RbfContract.objects.filter(pilot_id=busiest["pilot_id"]).order_by("pk").first()
        waiting = OutcomeClaim.objects.filter(status=ClaimStatus.CLAIMED).count()
        worker_id = Worker.objects.order_by("pk").values_list("pk", flat=True)[total // 2]
        stage = Worker.objects.filter(pilot_id=busiest["pilot_id"]).values_list("current_stage", flat=True).first()
        filtered = f"/workers/?pilot={busiest['pilot_id']}&stage={stage}&gender=female"
        pages = [  # (role, page, path, held to the time target)
            ("staff", "overview", "/pilots/", True),
            ("staff", f"pilot page ({busiest['n']:,} workers)", f"/pilots/{busiest['pilot_id']}/", True),
            ("staff", "worker list, first page", "/workers/", True),
            ("staff", "worker list, pilot + stage + gender", filtered, True),
            ("staff", "worker list, name search", "/workers/?q=Maria", True),
            ("staff", "worker page", f"/workers/{worker_id}/", False),
            ("staff", f"verification queue ({waiting:,} waiting)", "/verification/", True),
            ("staff", "claims list", "/claims/", False),
            ("staff", f"contract page ({contract.reference})", f"/contracts/{contract.pk}/", False),
            ("staff", "recruiter scorecards", "/recruiters/", False),
            ("funder", "overview", "/pilots/", True),
            ("funder", f"contract page ({contract.reference})", f"/contracts/{contract.pk}/", False),
        ]
        clients = {}
        for role in ("staff", "funder"):
            clients[role] = Client()
            clients[role].force_login(User.objects.get(username=role))

        print()
        print(f"Dashboard pages over {total:,} workers, in-process, {args.repeat} timed requests each")
        header = f"{'role':<7} {'page':<48} {'status':>6} {'queries':>7} {'p50 ms':>8} {'max ms':>8}  target"
        print(header)
        print("-" * len(header))
        missed = 0
        for role, name, path, timed in pages:
            status, queries, times = measure(clients[role], path, args.repeat)
            p50 = statistics.median(times)
            problems = [
                *([f"status {status}"] if status != 200 else []),
                *([f"{queries} > {MAX_QUERIES} queries"] if queries > MAX_QUERIES else []),
                *([f"p50 >= {TARGET_P50_MS:g} ms"] if timed and p50 >= TARGET_P50_MS else []),
            ]
            missed += bool(problems)
            verdict = "ok" if timed else "ok (queries; time measured only)"
            if problems:
                verdict = f"MISSED ({', '.join(problems)})"
            print(f"{role:<7} {name:<48} {status:>6} {queries:>7} {p50:>8.1f} {max(times):>8.1f}  {verdict}")
        print(f"\n{len(pages) - missed} of {len(pages)} pages within the targets")
    finally:
        connection.close()
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
