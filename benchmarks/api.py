"""Benchmark of the REST API served by gunicorn on loopback, over the demo world with 100,000 workers.

    python benchmarks/api.py [--workers 100000] [--seconds 8] [--lines 10000] [--import-rows 10000]

Runs on a scratch database created beside the configured one (the embedded PostgreSQL by default,
or DATABASE_URL) and dropped at the end. In one run it:

- seeds the demo world (``seed_demo``) with ``--workers`` workers, and one more contract of the demo
  recruiter with ``--lines`` verified claims (COPY) and its schedule recomputed: ``--lines`` payment lines;
- starts gunicorn (``--gunicorn-workers`` sync workers) on a free port of 127.0.0.1, pointed at the
  scratch database, throttling raised out of the way, and waits for ``/healthz``;
- drives it with a closed-loop load generator of its own (threads, each with one HTTP connection to
  127.0.0.1, sending the next request when the last answer is read) for ``--seconds`` per scenario, with
  one connection and then eight, bearing a staff token (and a recruiter's for the scoped list):
  the worker list (first page, a filtered page, a deep page reached by cursor, a recruiter's first
  page), a worker's detail, and the contract's schedule;
- prints p50, p99 and requests per second for each (targets, for the lists and the detail: p99 < 60 ms
  with one connection, at least 120 requests/s with eight; the schedule is measured, with no target),
  then stops gunicorn;
- times an atomic import of ``--import-rows`` workers in-process (``workers.imports.import_workers``,
  the rows of ``benchmarks/import_workers.py``; target: under 5 s) against the seeded table.

Nothing leaves 127.0.0.1; every run is bounded in time and in requests, and gunicorn is always stopped.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import http.client
import io
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lamp.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.import_workers import rows as import_rows  # noqa: E402
from benchmarks.world import seed_demo_world  # noqa: E402
from financing.models import ContractStatus, MetricKind, OutcomeMetric, PaymentLine, RbfContract  # noqa: E402
from financing.services import schedule_recompute  # noqa: E402
from lamp.tokens import api_token_create  # noqa: E402
from pilots.models import Organisation, User  # noqa: E402
from programme.demo import LOGIN_RECRUITER, ORGANISATIONS  # noqa: E402
from recruitment.models import Recruiter, RecruiterAssignment  # noqa: E402
from workers.imports import import_workers  # noqa: E402
from workers.models import Worker  # noqa: E402

HOST = "127.0.0.1"
CONCURRENCY = (1, 8)
#: Requests per scenario and concurrency at most, whatever the duration: the run is bounded in count too.
MAX_REQUESTS = 50_000
TARGET_P99_MS = 60.0
TARGET_RPS = 120.0
METRICS = (
    ("PLACED", MetricKind.PLACED, None, "500.00"),
    ("RETAINED_90", MetricKind.RETAINED_N, 90, "250.00"),
    ("RETAINED_180", MetricKind.RETAINED_N, 180, "600.00"),
    ("ZERO_FEE", MetricKind.ZERO_FEE, None, "300.00"),
)


# --- The world -----------------------------------------------------------------------------------


def seed_schedule(lines: int) -> int:
    """A contract of the demo recruiter with ``lines`` verified claims over four metrics; its schedule built.

    The claims are written by COPY (as in ``benchmarks/recompute.py``) about the first workers of the
    table, then ``schedule_recompute`` turns each into one payment line.
    """
    provider = Organisation.objects.get(name=ORGANISATIONS[LOGIN_RECRUITER].name)
    payer = Organisation.objects.get(name=ORGANISATIONS["outcomes_fund"].name)
    recruiter = Recruiter.objects.get(organisation=provider)
    pilot = RecruiterAssignment.objects.filter(recruiter=recruiter).order_by("pk").first().pilot
    contract = RbfContract.objects.create(
        reference="API-BENCH", name="API benchmark", pilot=pilot, payer=payer, provider=provider, currency="USD",
        start_date=datetime.date(2026, 1, 1), end_date=datetime.date(2026, 12, 31),
        cap_total=Decimal("100000000.00"), status=ContractStatus.ACTIVE,
    )
    metric_ids = []
    for position, (code, kind, days, price) in enumerate(METRICS):
        metric = OutcomeMetric.objects.create(
            contract=contract, code=code, name=code.replace("_", " ").title(), kind=kind, retention_days=days,
            price=Decimal(price), position=position,
        )
        metric_ids.append(metric.pk)
    per_metric = math.ceil(lines / len(METRICS))
    worker_ids = list(Worker.objects.order_by("pk").values_list("pk", flat=True)[:per_metric])
    if len(worker_ids) < per_metric:
        raise SystemExit(f"{lines:,} lines need at least {per_metric:,} workers; seed more with --workers")
    now = timezone.now().isoformat()
    buffer = io.StringIO()
    for n in range(lines):
        index, worker_id = divmod(n, per_metric)
        day = datetime.date(2026, 1, 1) + datetime.timedelta(days=(n * 7 + index * 31) % 360)
        buffer.write(f"{metric_ids[index]}\t{worker_ids[worker_id]}\t1\t{day}\tverified\t{day}\t{now}\t\t\tf\t\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(
            "COPY financing_outcomeclaim (metric_id, worker_id, unit, achieved_on, status, verified_on, claimed_at,"
            " rejection_reason, reversal_reason, in_review, pending_reason) FROM STDIN WITH (FORMAT text, NULL '\\N')",
            buffer,
        )
    schedule_recompute(contract_id=contract.pk)
    return contract.pk


def cursor_after(position: int) -> str:
    """A workers-list cursor whose page starts after worker ``position``, as ``lamp.api_base.KeysetPagination``
    encodes it: URL-safe base64 of ``{"o": <the list's order>, "p": [<the last row's id>]}``."""
    text = json.dumps({"o": "id", "p": [position]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")


def database_url() -> str:
    """The URL of the scratch database, for gunicorn (a socket folder as a percent-encoded host)."""
    db = connection.settings_dict
    host = quote(db["HOST"] or "", safe="") if (db["HOST"] or "").startswith("/") else db["HOST"]
    port = f":{db['PORT']}" if db["PORT"] else ""
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{host}{port}/{db['NAME']}"


# --- The server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def get(port: int, path: str, token: str | None = None, timeout: float = 30.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def start_gunicorn(port: int, workers: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "lamp.wsgi:application", "--bind", f"{HOST}:{port}",
             "--workers", str(workers), "--timeout", "120"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if get(port, "/healthz", timeout=2)[0] == 200:
                return process
        except OSError:
            pass
        time.sleep(0.25)
    stop(process)
    raise RuntimeError(f"gunicorn did not answer /healthz within 60 s:\n{log.read_text(errors='replace')}")


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


# --- The load ------------------------------------------------------------------------------------


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))]


def load(port: int, path: str, token: str, *, concurrency: int, seconds: float, warmup: int = 3) -> Result:
    """A closed loop: ``concurrency`` threads, each sending its next request as soon as it read the last answer.

    Each thread keeps one ``HTTPConnection`` (reopened by http.client when the server closes it: gunicorn's
    sync workers answer ``Connection: close``, so every request also pays a loopback TCP connect, as it would
    behind a proxy that does not pool). Latency is from sending the request to reading the whole body.
    """
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    budget = threading.Semaphore(MAX_REQUESTS)
    start = threading.Barrier(concurrency + 1)
    stop_at = [0.0]

    def one(conn: http.client.HTTPConnection) -> int:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.will_close:
            conn.close()
        return response.status

    def run(index: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        try:
            for _ in range(warmup):
                one(conn)
            start.wait()
            mine = latencies[index]
            while time.perf_counter() < stop_at[0] and budget.acquire(blocking=False):
                began = time.perf_counter()
                try:
                    status = one(conn)
                except (OSError, http.client.HTTPException):
                    conn.close()
                    errors[index] += 1
                    continue
                mine.append(time.perf_counter() - began)
                if status != 200:
                    errors[index] += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + seconds + 60  # provisional, until every thread has warmed up
    start.wait()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    for thread in threads:
        thread.join(timeout=seconds + 60)
    elapsed = time.perf_counter() - began
    values = sorted(v * 1000 for per_thread in latencies for v in per_thread)
    return Result(
        requests=len(values), errors=sum(errors), seconds=elapsed, p50_ms=percentile(values, 0.50),
        p99_ms=percentile(values, 0.99), max_ms=values[-1] if values else float("nan"),
    )


# --- The run -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=100_000, help="workers in the demo world (default 100,000)")
    parser.add_argument("--lines", type=int, default=10_000, help="payment lines of the benchmarked schedule")
    parser.add_argument("--import-rows", type=int, default=10_000, help="rows of the timed atomic import")
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each scenario and concurrency")
    parser.add_argument("--gunicorn-workers", type=int, default=3)
    parser.add_argument(
        "--conn-max-age", type=int, default=int(os.environ.get("CONN_MAX_AGE", "60")),
        help="CONN_MAX_AGE of the gunicorn workers (default: the environment's, else 60 as in production; 0 opens"
        " a database connection per request, as development does)",
    )
    args = parser.parse_args()

    test_db = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    server = None
    try:
        print(f"database: {test_db} (scratch, dropped at the end)")
        seed_demo_world(args.workers)
        started = time.perf_counter()
        contract_id = seed_schedule(args.lines)
        lines = PaymentLine.objects.filter(tranche__contract_id=contract_id).count()
        print(f"seeded contract {contract_id}: {lines:,} payment lines in {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        staff = User.objects.get(username="staff")
        recruiter_user = User.objects.get(username="recruiter")
        _, staff_token = api_token_create(user=staff, name="api benchmark")
        _, recruiter_token = api_token_create(user=recruiter_user, name="api benchmark")

        ids = Worker.objects.order_by("pk").values_list("pk", flat=True)
        total = ids.count()
        deep_after = ids[int(total * 0.9)]
        detail_id = ids[total // 2]
        busiest = (
            Worker.objects.values("pilot_id", "current_stage").annotate(n=Count("id")).order_by("-n", "pilot_id")
        ).first()
        filtered = urlencode({"pilot": busiest["pilot_id"], "stage": busiest["current_stage"], "gender": "female"})
        scenarios = [
            ("workers, first page", "/api/v1/workers/", staff_token),
            (f"workers ?{filtered}", f"/api/v1/workers/?{filtered}", staff_token),
            ("workers, deep page (90%)", f"/api/v1/workers/?cursor={quote(cursor_after(deep_after))}", staff_token),
            ("workers, first page (recruiter)", "/api/v1/workers/", recruiter_token),
            ("worker detail", f"/api/v1/workers/{detail_id}/", staff_token),
            (f"contract schedule ({lines:,} lines)", f"/api/v1/contracts/{contract_id}/schedule/", staff_token),
        ]

        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "LAMP_ENV": "development",
            "DEBUG": "false",
            "API_THROTTLE_RATE": "1000000/min",
            "CONN_MAX_AGE": str(args.conn_max_age),
        }
        with tempfile.TemporaryDirectory(prefix="lamp-apibench-") as folder:
            log = Path(folder) / "gunicorn.log"
            server = start_gunicorn(port, args.gunicorn_workers, env, log)
            cache = "Redis" if settings.REDIS_URL else "per-process memory"
            print(f"gunicorn: {args.gunicorn_workers} sync workers on {HOST}:{port}, DEBUG off,"
                  f" CONN_MAX_AGE={args.conn_max_age}, throttle counts in {cache} cache")

            described = []
            for name, path, token in scenarios:
                status, body = get(port, path, token)
                if status != 200:
                    raise RuntimeError(f"{name}: GET {path} answered {status}: {body[:500]!r}")
                data = json.loads(body)
                if "results" in data:
                    first = data["results"][0]["id"] if data["results"] else None
                    if name.startswith("workers, deep") and not (first and first > deep_after):
                        raise RuntimeError(f"the deep page starts at {first}, not after {deep_after}")
                    size = f"{len(data['results'])} rows"
                elif "tranches" in data:
                    size = f"{sum(len(t.get('lines', [])) for t in data['tranches']):,} lines"
                else:
                    size = "1 worker"
                described.append((name, path, token, f"{size}, {len(body) / 1024:,.0f} KiB"))

            results = []
            for name, path, token, size in described:
                for concurrency in CONCURRENCY:
                    result = load(port, path, token, concurrency=concurrency, seconds=args.seconds)
                    results.append((name, size, concurrency, result))
                    print(f"  {name} x{concurrency}: {result.requests:,} requests, p99 {result.p99_ms:.1f} ms,"
                          f" {result.rps:.0f} req/s", flush=True)
            stop(server)
            server = None

        print()
        print(f"REST API over {total:,} workers, gunicorn {args.gunicorn_workers} sync workers on loopback,"
              f" {args.seconds:g} s per row (closed loop)")
        header = (f"{'scenario':<52} {'response':<20} {'conns':>5} {'requests':>9} {'errors':>6} {'p50 ms':>8}"
                  f" {'p99 ms':>8} {'max ms':>8} {'req/s':>8}  target")
        print(header)
        print("-" * len(header))
        for name, size, concurrency, r in results:
            if name.startswith("contract schedule"):
                # The targets are the list endpoints' (and a detail's): a 10,000-line schedule is one 1.2 MiB
                # document, measured for what it costs.
                verdict = "measured (no target)"
            elif concurrency == 1:
                verdict = "ok" if r.p99_ms < TARGET_P99_MS else f"MISSED (p99 < {TARGET_P99_MS:g} ms)"
            else:
                verdict = "ok" if r.rps >= TARGET_RPS else f"MISSED (>= {TARGET_RPS:g} req/s)"
            print(f"{name:<52} {size:<20} {concurrency:>5} {r.requests:>9,} {r.errors:>6} {r.p50_ms:>8.1f}"
                  f" {r.p99_ms:>8.1f} {r.max_ms:>8.1f} {r.rps:>8.1f}  {verdict}")

        # The import, in-process, against the seeded table (its duplicate checks read every worker).
        recruiter = Recruiter.objects.get(organisation=recruiter_user.organisation)
        pilot = RecruiterAssignment.objects.filter(recruiter=recruiter).order_by("pk").first().pilot
        before = Worker.objects.count()
        rows = import_rows(args.import_rows, pilot)
        started = time.perf_counter()
        result = import_workers(rows=rows, mode="atomic", user=recruiter_user, recruiter=recruiter)
        elapsed = time.perf_counter() - started
        if result.errors or Worker.objects.count() != before + args.import_rows:
            raise RuntimeError(f"the import did not write every row: {result.errors[:3]}")
        print(f"\natomic import of {args.import_rows:,} workers into {before:,}: {elapsed:.2f} s"
              f"  ({args.import_rows / elapsed:,.0f} rows/s; target < 5 s)")
    finally:
        stop(server)
        connection.close()
        connection.creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
