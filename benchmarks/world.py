"""The demo world the API and dashboard benchmarks measure, seeded with progress on the terminal.

Imported by the benchmark scripts once Django is set up; not a script of its own.
"""

from __future__ import annotations

import time

from django.db import connection

from programme.demo import seed_demo
from workers.models import Worker


def seed_demo_world(workers: int) -> int:
    """Seed the demo world (``seed_demo``) with ``workers`` workers into the current (scratch) database,
    printing progress every 20,000, then ``ANALYZE`` as autovacuum would after a bulk load; return the
    number of workers."""
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done == total or done % 20_000 == 0:
            print(f"  seeding: {done:,} / {total:,} workers  ({time.perf_counter() - started:.0f} s)", flush=True)

    seed_demo(workers=workers, progress=progress)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    total = Worker.objects.count()
    print(f"seeded the demo world, {total:,} workers, in {time.perf_counter() - started:.1f} s")
    return total
