"""``manage.py simulate_contract``: JSON on stdout, or ``error: <field>: <message>`` and exit status 2."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from financing.scenario import simulate
from tests.financing.scenarios import worked_example


def run(*args: str) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("simulate_contract", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def run_bad(*args: str) -> str:
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("simulate_contract", *args, stdout=stdout, stderr=stderr)
    assert exited.value.code == 2
    assert stdout.getvalue() == ""
    return stderr.getvalue()


def test_prints_the_schedule_of_a_scenario_file(tmp_path):
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(worked_example()), encoding="utf-8")

    stdout, stderr = run(str(path))

    assert stdout == json.dumps(simulate(worked_example()), indent=2) + "\n"
    assert json.loads(stdout)["total"] == "1500.00"
    assert stderr == ""


def test_reads_the_scenario_from_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(worked_example())))

    stdout, _ = run("-")

    assert json.loads(stdout) == simulate(worked_example())


def test_bad_input_names_the_field(tmp_path):
    bad = worked_example()
    bad["metrics"][0]["price"] = "-500.00"
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(bad), encoding="utf-8")

    assert run_bad(str(path)) == "error: metrics[0].price: must not be negative\n"


def test_a_missing_file_is_reported(tmp_path):
    path = tmp_path / "missing.json"

    assert run_bad(str(path)) == f"error: {path}: cannot read: No such file or directory\n"


def test_a_directory_is_reported(tmp_path):
    assert run_bad(str(tmp_path)) == f"error: {tmp_path}: cannot read: Is a directory\n"


def test_a_file_that_is_not_utf8_is_reported(tmp_path):
    path = tmp_path / "scenario.json"
    path.write_bytes(b'{"currency": "\xff"}')

    assert run_bad(str(path)) == f"error: {path}: cannot read: not UTF-8 (invalid start byte at byte 14)\n"


@pytest.mark.parametrize("text", ["", "{", "{'currency': 'USD'}", "[1, 2,]", "1" * 5000])
def test_invalid_json_is_reported(monkeypatch, text):
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))

    assert run_bad("-").startswith("error: <stdin>: invalid JSON: ")


def test_json_nested_too_deeply_is_reported(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("[" * 1_000_000))

    assert run_bad("-") == "error: <stdin>: invalid JSON: nested too deeply\n"


def test_json_that_is_not_an_object_is_reported(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("[]"))

    assert run_bad("-") == "error: scenario: must be a JSON object\n"


def test_json_numbers_with_a_fraction_are_refused_as_amounts(monkeypatch):
    text = json.dumps(worked_example()).replace('"500.00"', "500.1")
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))

    assert run_bad("-").startswith("error: metrics[0].price: must be a string holding a decimal")


def manage(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The real ``manage.py``, to check what a shell sees: the exit status and no traceback."""
    return subprocess.run(
        [sys.executable, "manage.py", "simulate_contract", *args],
        cwd=settings.BASE_DIR,
        env=os.environ.copy(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_manage_py_exits_with_status_2_and_one_line_on_bad_input():
    done = manage("-", stdin='{"currency": "XXX"}')

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "error: currency: unknown currency 'XXX': expected an ISO 4217 code such as USD"
    ]


def test_manage_py_prints_the_schedule(tmp_path):
    path = Path(tmp_path) / "scenario.json"
    path.write_text(json.dumps(worked_example()), encoding="utf-8")

    done = manage(str(path))

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == simulate(worked_example())
