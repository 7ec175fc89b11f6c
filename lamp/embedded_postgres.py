"""An embedded PostgreSQL server for runs without ``DATABASE_URL``.

The default run and the test suite use the same engine as production (locks, triggers, COPY), with
nothing to install but a pip package: ``pgserver`` ships PostgreSQL binaries in its wheel and starts
a server on a Unix socket under a data folder of the project. The server is shared by every process
that asks for the same folder and stops when the last of them exits.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

DATABASE_NAME = "lamp"


def embedded_database(data_dir: Path) -> dict[str, Any]:
    """Start (or join) the embedded server in ``data_dir``; return Django settings for its database."""
    # pgserver finds a runtime folder through platformdirs, which warns when none is set.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir.parent))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver  # imported here: only runs without DATABASE_URL need it

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    # The server listens on a Unix socket inside the data folder: the folder is the host.
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(data_dir.resolve()),
        "PORT": "",
    }
