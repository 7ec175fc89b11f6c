"""The layers of STYLE.md hold: imports run one way, from the top app down to the shared parts of ``lamp``.

``lint-imports`` (import-linter) checks the contract of ``[tool.importlinter]`` in pyproject.toml over every
module of the project, including imports inside functions and chains through other modules. ``lamp`` is
split between the wiring at the top and the shared parts at the bottom, so every module of it must be named
in one of the two: a new module that is named in neither would go unchecked.
"""

from __future__ import annotations

import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import lamp

ROOT = Path(__file__).resolve().parent.parent


def _contract() -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["id"] == "layers"]
    return contract


def _layer_modules(layer: str) -> set[str]:
    return {name for name in re.split(r"[|:\s]+", layer) if name}


def test_no_import_runs_up_a_layer() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--config", str(ROOT / "pyproject.toml"), "--contract", "layers", "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_the_layers_are_the_apps_in_order() -> None:
    layers = [_layer_modules(layer) for layer in _contract()["layers"]]
    assert layers[1:6] == [{"programme"}, {"financing"}, {"workers"}, {"recruitment"}, {"pilots"}]


def test_every_module_of_lamp_is_in_a_layer() -> None:
    layers = _contract()["layers"]
    top, shared = _layer_modules(layers[0]), _layer_modules(layers[-1])
    modules = {f"lamp.{info.name}" for info in pkgutil.iter_modules(lamp.__path__)}
    assert not top & shared
    assert modules - top - shared == set(), "name each new module of lamp in the top or the bottom layer"
    assert (top | shared) - modules == set(), "the contract names a module that no longer exists"
