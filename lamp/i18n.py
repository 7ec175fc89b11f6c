"""The platform's translations: ``locale/<language>/LC_MESSAGES/django.po``, compiled to the ``.mo`` Django reads.

Django's own ``compilemessages`` needs GNU gettext's ``msgfmt``, which a machine with nothing but Python does
not have; polib writes the same files in pure Python. ``python -m lamp.i18n`` compiles what changed (dev.py
runs it before serving or testing, the Docker build once), so the ``.mo`` files are built, never committed.
``manage.py compile_translations`` does the same from Django.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def catalogues(root: Path = LOCALE) -> list[Path]:
    """Every ``.po`` file under ``root``."""
    return sorted(root.glob("*/LC_MESSAGES/*.po"))


def compile_catalogues(root: Path = LOCALE, *, force: bool = False) -> list[Path]:
    """Compile each ``.po`` whose ``.mo`` is missing or older; return the ``.mo`` files written."""
    written = []
    for po_path in catalogues(root):
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


if __name__ == "__main__":
    for path in compile_catalogues(force="--force" in sys.argv):
        print(f"compiled {path.relative_to(LOCALE.parent)}")
