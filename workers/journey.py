"""Which journey moves are allowed: pure functions over stages, used by the journey service.

A worker moves forward along ``stages.PATH``; a move may pass over stages the pilot does not
require, never over one it does, and never goes back. Exits are taken from the stages listed in
``stages.EXIT_FROM``. A season ends at ``returned`` or an exit; a returned worker may start a new
season. Staff may override any of this with a reason: the service records that it was an override.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from pilots.stages import EXIT_FROM, EXITS, PATH, Stage


class JourneyError(Exception):
    """A move the journey does not allow; names the current stage and the refused one, and ``field``, what the
    refusal is about: ``stage`` (the move) or ``occurred_on`` (its date)."""

    def __init__(self, *, current: str, requested: str, message: str, field: str = "stage") -> None:
        self.current = current
        self.requested = requested
        self.message = message
        self.field = field
        super().__init__(message)


def _label(stage: str) -> str:
    return f"'{stage}'"


def check_move(*, current: str, requested: str, required: Iterable[str]) -> None:
    """Raise ``JourneyError`` unless a worker at ``current`` may move to ``requested``.

    ``required`` is the pilot's list of required stages.
    """
    if requested not in Stage.values:
        raise JourneyError(current=current, requested=requested, message=f"{_label(requested)} is not a stage.")
    refused = f"Cannot move from {_label(current)} to {_label(requested)}"
    if current in EXITS or current == Stage.RETURNED:
        raise JourneyError(
            current=current,
            requested=requested,
            message=f"{refused}: the worker's season ended at {_label(current)}"
            + ("; start a new season instead." if current == Stage.RETURNED else "."),
        )
    if requested in EXITS:
        if current not in EXIT_FROM[Stage(requested)]:
            allowed = ", ".join(_label(s) for s in PATH if s in EXIT_FROM[Stage(requested)])
            raise JourneyError(
                current=current,
                requested=requested,
                message=f"{refused}: {_label(requested)} can only follow {allowed}.",
            )
        return
    here, there = PATH.index(Stage(current)), PATH.index(Stage(requested))
    if there == here:
        raise JourneyError(current=current, requested=requested, message=f"{refused}: the worker is already there.")
    if there < here:
        raise JourneyError(
            current=current, requested=requested, message=f"{refused}: the journey does not go backwards."
        )
    required = set(required)
    skipped = [s for s in PATH[here + 1 : there] if s in required]
    if skipped:
        raise JourneyError(
            current=current,
            requested=requested,
            message=f"{refused}: the pilot requires {', '.join(_label(s) for s in skipped)} first.",
        )


def check_date(
    *,
    current: str,
    requested: str,
    occurred_on: datetime.date,
    stage_changed_on: datetime.date | None,
    today: datetime.date,
) -> None:
    """Raise ``JourneyError`` (about ``occurred_on``) for a move dated in the future or before the current stage
    began."""
    if occurred_on > today:
        raise JourneyError(
            current=current, requested=requested, message=f"{occurred_on} is in the future.", field="occurred_on"
        )
    if stage_changed_on and occurred_on < stage_changed_on:
        raise JourneyError(
            current=current,
            requested=requested,
            message=f"{occurred_on} is before the current stage '{current}' began ({stage_changed_on}).",
            field="occurred_on",
        )


def next_stages(*, current: str, required: Iterable[str]) -> list[str]:
    """The stages a worker at ``current`` may move to without an override, in path order."""
    allowed = []
    for stage in (*PATH, *EXITS):
        try:
            check_move(current=current, requested=stage, required=required)
        except JourneyError:
            continue
        allowed.append(stage.value)
    return allowed
