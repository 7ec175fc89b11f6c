"""Benchmark of the schedule recompute on one contract with 100,000 verified claims over 4 metrics.

    python benchmarks/recompute.py [--claims 100000]

Runs on a scratch database created beside the configured one (the embedded PostgreSQL by default,
or DATABASE_URL) and dropped at the end. Prints, in one run:

- the floor: the time PostgreSQL itself needs to read those claims and COPY as many lines, into a
  bare table and into the payment line table itself (the ratio is taken against the latter);
- a first recompute (every line written), and its ratio to the floor (target: at most 3x);
- a second recompute with nothing changed (target: under 1 s, writing nothing);
- a recompute after 1% of the claims were reversed, with the first quarter approved (adjustments);
- the peak memory of the process (target: under 1 GiB).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import os
import pstats
import resource
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lamp.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from financing.models import OutcomeClaim, PaymentLine, Tranche, TrancheStatus  # noqa: E402
from financing.services import schedule_recompute  # noqa: E402
from pilots.models import Organisation, Pilot, Sector, User  # noqa: E402
from recruitment.models import Recruiter  # noqa: E402
from workers.models import Worker  # noqa: E402

METRICS = ("PLACED", "RETAINED_90", "RETAINED_180", "ZERO_FEE")


def seed(claims: int) -> int:
    """One active contract, ``claims`` verified claims spread over four metrics and the year."""
    from financing.models import ContractStatus, MetricKind, OutcomeMetric, RbfContract

    sector = Sector.objects.create(code="agriculture", name="Agriculture")
    pilot = Pilot.objects.create(
        name="Bench", slug="bench", sector=sector, origin_countries=["GT"], destination_country="US",
        pathway="H-2A", status="active", start_date=datetime.date(2026, 1, 1), target_cohort_size=claims,
    )
    funder = Organisation.objects.create(name="Funder", kind="funder", country="US")
    agency = Organisation.objects.create(name="Agency", kind="recruiter", country="GT")
    recruiter = Recruiter.objects.create(organisation=agency, licence_number="B-1", licence_country="GT")
    contract = RbfContract.objects.create(
        reference="BENCH", name="Bench", pilot=pilot, payer=funder, provider=agency, currency="USD",
        start_date=datetime.date(2026, 1, 1), end_date=datetime.date(2026, 12, 31),
        cap_total=Decimal("40000000.00"), status=ContractStatus.ACTIVE,
    )
    placed = OutcomeMetric.objects.create(
        contract=contract, code="PLACED", name="Placed", kind=MetricKind.PLACED, price=Decimal("500.00"), position=0
    )
    OutcomeMetric.objects.create(
        contract=contract, code="RETAINED_90", name="Retained 90 days", kind=MetricKind.RETAINED_N,
        retention_days=90, price=Decimal("250.00"), position=1,
    )
    OutcomeMetric.objects.create(
        contract=contract, code="RETAINED_180", name="Retained 180 days", kind=MetricKind.RETAINED_N,
        retention_days=180, tiers=[{"units": 10000, "price": "750.00"}, {"units": None, "price": "600.00"}],
        threshold_rate=Decimal("0.5"), denominator_metric=placed, cap_amount=Decimal("15000000.00"), position=2,
    )
    OutcomeMetric.objects.create(
        contract=contract, code="ZERO_FEE", name="Recruited at zero fee", kind=MetricKind.ZERO_FEE,
        price=Decimal("300.00"), cap_units=claims // 5, position=3,
    )
    workers = claims // len(METRICS)
    now = timezone.now()
    Worker.objects.bulk_create(
        [
            Worker(given_names=f"W{n}", family_names="Bench", date_of_birth=datetime.date(1990, 1, 1),
                   gender="female", nationality="GT", recruiter=recruiter, pilot=pilot, created_at=now)
            for n in range(workers)
        ],
        batch_size=10_000,
    )
    metric_ids = dict(OutcomeMetric.objects.filter(contract=contract).values_list("code", "pk"))
    worker_ids = list(Worker.objects.filter(pilot=pilot).order_by("pk").values_list("pk", flat=True))
    rows = io.StringIO()
    for index, code in enumerate(METRICS):
        for n, worker_id in enumerate(worker_ids):
            day = datetime.date(2026, 1, 1) + datetime.timedelta(days=(n * 7 + index * 31) % 360)
            rows.write(f"{metric_ids[code]}\t{worker_id}\t1\t{day}\tverified\t{day}\t{now.isoformat()}\t\t\tf\t\n")
    rows.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(
            "COPY financing_outcomeclaim (metric_id, worker_id, unit, achieved_on, status, verified_on, claimed_at,"
            " rejection_reason, reversal_reason, in_review, pending_reason) FROM STDIN WITH (FORMAT text, NULL '\\N')",
            rows,
        )
    return contract.pk


def floor(contract_id: int, *, table: bool) -> float:
    """Read the verified claims and COPY as many lines: what PostgreSQL alone needs.

    With ``table`` the lines go into the payment line table itself (its indexes, foreign keys checked
    at once and history trigger), in a transaction rolled back after; otherwise into a bare scratch
    table with none of those.
    """
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, m.code, c.worker_id, c.achieved_on, c.verified_on FROM financing_outcomeclaim c"
            " JOIN financing_outcomemetric m ON m.id = c.metric_id"
            " WHERE m.contract_id = %s AND c.status = 'verified' ORDER BY c.verified_on, c.id",
            [contract_id],
        )
        rows = cursor.fetchall()
        if table:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                "INSERT INTO financing_tranche (contract_id, code, start_date, end_date, due_date, status)"
                " VALUES (%s, 'FLOOR', '2026-01-01', '2026-12-31', '2027-01-30', 'open') RETURNING id",
                [contract_id],
            )
            target, tranche_id = "financing_paymentline", cursor.fetchone()[0]
        else:
            cursor.execute(
                "CREATE TEMP TABLE floor_lines (LIKE financing_paymentline INCLUDING DEFAULTS INCLUDING IDENTITY)"
            )
            target, tranche_id = "floor_lines", 1
        buffer = io.StringIO()
        now = timezone.now().isoformat()
        for claim_id, _code, _worker, _achieved, verified_on in rows:
            buffer.write(f"{tranche_id}\t{claim_id}\tpayment\t{verified_on}\t500.00\t0.00\t\t\t{now}\n")
        buffer.seek(0)
        cursor.copy_expert(
            f"COPY {target} (tranche_id, claim_id, kind, verified_on, amount, capped, reason, note, created_at)"
            " FROM STDIN WITH (FORMAT text)",
            buffer,
        )
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def timed(contract_id: int) -> tuple[float, object, int]:
    writes = []

    def count_writes(execute, sql, params, many, context):  # noqa: ANN001
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "COPY")):
            writes.append(sql)
        return execute(sql, params, many, context)

    started = time.perf_counter()
    with connection.execute_wrapper(count_writes):
        result = schedule_recompute(contract_id=contract_id)
    return time.perf_counter() - started, result, len(writes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true", help="print where the first recompute spends its time")
    args = parser.parse_args()

    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        print(f"database: {test_db} (scratch, dropped at the end)")
        t = time.perf_counter()
        contract_id = seed(args.claims)
        print(f"seeded {args.claims:,} verified claims over {len(METRICS)} metrics in {time.perf_counter() - t:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        bare_s = min(floor(contract_id, table=False) for _ in range(3))
        floor_s = min(floor(contract_id, table=True) for _ in range(3))
        print(f"floor, read the claims + COPY {args.claims:,} lines (best of 3): {bare_s:.2f} s into a bare table,"
              f" {floor_s:.2f} s into the payment line table (indexes, foreign keys, history trigger)")

        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        first_s, first, first_writes = timed(contract_id)
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        lines = PaymentLine.objects.filter(tranche__contract_id=contract_id).count()
        print(f"first recompute:     {first_s:6.2f} s  {first.created:,} lines  ratio to floor {first_s / floor_s:.2f}x"
              f"  (target <= 3x)  [{lines:,} lines in the table]")

        second_s, second, second_writes = timed(contract_id)
        print(f"unchanged recompute: {second_s:6.2f} s  {second_writes} write statements  (target < 1 s, 0 writes)")

        Tranche.objects.filter(contract_id=contract_id, code="2026-Q1").update(
            status=TrancheStatus.APPROVED, approved_by=User.objects.create(username="bench-approver"),
            approved_at=timezone.now(),
        )
        changed = list(
            OutcomeClaim.objects.filter(metric__contract_id=contract_id).order_by("?").values_list("pk", flat=True)[
                : args.claims // 100
            ]
        )
        OutcomeClaim.objects.filter(pk__in=changed).update(status="reversed", reversal_reason="benchmark")
        third_s, third, _ = timed(contract_id)
        print(f"after 1% reversed:   {third_s:6.2f} s  {third.created:,} created, {third.updated:,} updated,"
              f" {third.deleted:,} removed, {len(third.adjustments):,} adjustments for the frozen Q1")

        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory: {peak_mib:.0f} MiB  (target < 1024 MiB)")
    finally:
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
