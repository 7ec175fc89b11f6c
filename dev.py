#!/usr/bin/env python3
"""Set up and run the LaMP pilot platform on a machine with nothing but Python 3.11+.

    python3 dev.py serve [--port 8000] [--no-seed]   migrate, seed the demo, serve on http://127.0.0.1:8000
    python3 dev.py test [pytest arguments...]        run the test suite; exits with pytest's status

Both create ``.venv`` with the interpreter that runs this script and install the project into it,
again only when ``pyproject.toml`` has changed since. Nothing else is needed: without DATABASE_URL
the settings start an embedded PostgreSQL under ``.lamp/``, and without REDIS_URL tasks run
in-process. Standard library only, so that it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
# Holds the hash of the pyproject.toml last installed, so an unchanged project is not reinstalled.
STAMP = VENV / ".lamp-installed"

USAGE = """usage: python3 dev.py serve [--port PORT] [--no-seed]
       python3 dev.py test [pytest arguments...]"""


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(*command: str | Path) -> None:
    """Run a command from the repository root; a failure raises ``CalledProcessError``."""
    args = [str(part) for part in command]
    print(f"    $ {shlex.join(args)}", flush=True)
    subprocess.run(args, cwd=ROOT, check=True)


def ensure_venv() -> Path:
    """Create ``.venv`` if it is missing and install the project if pyproject.toml changed; return its python."""
    if not VENV_PYTHON.exists():
        say(f"Creating the virtual environment .venv with Python {sys.version.split()[0]} ({sys.executable})")
        try:
            run(sys.executable, "-m", "venv", VENV)
        except subprocess.CalledProcessError:
            # A half-made venv (no pip, e.g. Debian without python3-venv) would pass for a made one next time.
            shutil.rmtree(VENV, ignore_errors=True)
            raise
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        say("Dependencies are up to date (pyproject.toml unchanged since the last install)")
    else:
        say("Installing the project and its test tools into .venv")
        run(VENV_PYTHON, "-m", "pip", "install", "--disable-pip-version-check", "--quiet", "-e", ".[test]")
        STAMP.write_text(wanted + "\n")
    return VENV_PYTHON


def serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python3 dev.py serve", description="Set up and serve the platform.")
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000)")
    parser.add_argument("--no-seed", action="store_true", help="do not load the demo data")
    options = parser.parse_args(argv)

    python = ensure_venv()
    compile_translations(python)
    say("Applying database migrations")
    run(python, "manage.py", "migrate", "--noinput")
    if options.no_seed:
        say("Skipping the demo data (--no-seed)")
    else:
        say("Loading the demo data (pilots, partners, workers, contracts and their logins)")
        run(python, "manage.py", "seed_demo")
    say(f"Serving the platform on http://127.0.0.1:{options.port}/ (admin at /admin/); Ctrl-C stops it")
    return run_server([str(python), "manage.py", "runserver", f"127.0.0.1:{options.port}"])


def run_server(command: list[str]) -> int:
    """Run ``runserver`` until it exits, stopping it with SIGINT on Ctrl-C, SIGTERM or SIGHUP.

    The server runs in a session of its own so that no signal reaches it but the SIGINT sent here:
    on SIGINT Django's reloader and its child both exit normally, and the last process to leave the
    embedded PostgreSQL stops it. A SIGTERM to both would have the reloader kill its child outright,
    leaving the database server running.
    """
    server: subprocess.Popen[bytes] | None = None

    def stop(signum: int, frame: object) -> None:
        if server is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGINT)

    # Installed before the server starts: a SIGINT that dev.py inherited as ignored (a background job
    # of a script) would otherwise stay ignored in the server too, and it could not be stopped cleanly.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    print(f"    $ {shlex.join(command)}", flush=True)
    server = subprocess.Popen(command, cwd=ROOT, start_new_session=True)
    return server.wait()


def compile_translations(python: Path) -> None:
    """Build the .mo files of locale/ from their .po (only those that changed), as Django reads them."""
    run(python, "-m", "lamp.i18n")


def test(argv: list[str]) -> int:
    python = ensure_venv()
    compile_translations(python)
    say("Running the test suite (PostgreSQL: DATABASE_URL, else embedded; Redis tests only with REDIS_URL)")
    command = [str(python), "-m", "pytest", *argv]
    print(f"    $ {shlex.join(command)}", flush=True)
    return subprocess.run(command, cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs on whatever python3 the machine has
        print(f"dev.py needs Python 3.11 or newer; this is {sys.version.split()[0]}", file=sys.stderr)
        return 2
    commands = {"serve": serve, "test": test}
    if argv[:1] in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    if not argv or argv[0] not in commands:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        return commands[argv[0]](argv[1:])
    except subprocess.CalledProcessError as error:
        print(f"dev.py: failed (exit status {error.returncode}): {shlex.join(error.cmd)}", file=sys.stderr)
        return error.returncode or 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
