"""An embedded PostgreSQL server for runs without ``DATABASE_URL``.

The default run and the test suite use the same engine as production (locks, triggers, COPY), with
nothing to install but a pip package: ``pgserver`` ships PostgreSQL binaries in its wheel and starts
a server on a Unix socket under a data folder of the project. The server is shared by every process
that asks for the same folder and stops when the last of them exits.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

DATABASE_NAME = "lamp"


def embedded_database(data_dir: Path) -> dict[str, Any]:
    """Start (or join) the embedded server in ``data_dir``; return Django settings for its database."""
    # pgserver finds a runtime folder through platformdirs, which warns when none is set.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir.parent))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver  # imported here: only runs without DATABASE_URL need it

    data_dir.mkdir(parents=True, exist_ok=True)
    with pgserver.postgres_server.PostgresServer._lock:
        _forget_dead_processes(data_dir)
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    # The server listens on a Unix socket (in the data folder, or a shorter path if that one is too
    # long for a socket name): its folder is the host.
    socket_dir = parse_qs(urlparse(server.get_uri()).query)["host"][0]
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": socket_dir,
        "PORT": "",
    }


def _forget_dead_processes(data_dir: Path) -> None:
    """Drop processes that died without saying so (SIGKILL) from the server's list of users.

    The server stops when the last process on that list exits; a dead process left on it would keep
    the server running after everyone is gone.
    """
    pids_file = data_dir / ".handle_pids.json"
    try:
        pids = json.loads(pids_file.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if _running(pid)]
    if alive != pids:
        pids_file.write_text(json.dumps(alive))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
