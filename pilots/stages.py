"""The stages of a worker's journey, in order, and which moves between them are allowed.

The journey's vocabulary belongs to the ground layer: a pilot chooses which of these stages it requires,
and the journey service of ``workers`` (a layer above) moves workers along them, so both share one
definition without ``pilots`` importing anything above it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    SCREENED = "screened", _("Screened")
    IN_TRAINING = "in_training", _("In training")
    TRAINED = "trained", _("Trained")
    MATCHED = "matched", _("Matched with a job")
    VISA_PENDING = "visa_pending", _("Visa pending")
    VISA_ISSUED = "visa_issued", _("Visa issued")
    DEPLOYED = "deployed", _("Deployed")
    WORKING = "working", _("Working")
    COMPLETED = "completed", _("Completed contract")
    RETURNED = "returned", _("Returned home")
    # Exits: the journey ends here for this season.
    WITHDRAWN = "withdrawn", _("Withdrawn")
    NOT_SELECTED = "not_selected", _("Not selected")
    VISA_DENIED = "visa_denied", _("Visa denied")
    SEPARATED_EARLY = "separated_early", _("Separated early")


#: The main path, in order.
PATH: tuple[Stage, ...] = (
    Stage.REGISTERED,
    Stage.SCREENED,
    Stage.IN_TRAINING,
    Stage.TRAINED,
    Stage.MATCHED,
    Stage.VISA_PENDING,
    Stage.VISA_ISSUED,
    Stage.DEPLOYED,
    Stage.WORKING,
    Stage.COMPLETED,
    Stage.RETURNED,
)
EXITS: tuple[Stage, ...] = (Stage.WITHDRAWN, Stage.NOT_SELECTED, Stage.VISA_DENIED, Stage.SEPARATED_EARLY)

#: Stages every pilot goes through: a pilot may drop any other stage of the path (an H-2A pilot
#: without a training stage), never these.
ALWAYS_REQUIRED: frozenset[Stage] = frozenset({Stage.REGISTERED, Stage.DEPLOYED})

#: From which stages of the path each exit may be taken.
EXIT_FROM: dict[Stage, frozenset[Stage]] = {
    Stage.WITHDRAWN: frozenset(PATH[: PATH.index(Stage.DEPLOYED)]),
    Stage.NOT_SELECTED: frozenset(PATH[: PATH.index(Stage.VISA_PENDING)]),
    Stage.VISA_DENIED: frozenset({Stage.VISA_PENDING}),
    Stage.SEPARATED_EARLY: frozenset({Stage.DEPLOYED, Stage.WORKING}),
}

#: The stages from which a worker may start a new season (circular migration).
NEW_SEASON_FROM: frozenset[Stage] = frozenset({Stage.RETURNED})


def default_required_stages() -> list[str]:
    """Every stage of the path: a new pilot requires them all until staff drop some."""
    return [stage.value for stage in PATH]


class CheckInMoment(models.TextChoices):
    """When a worker's check-in asks (a pilot chooses which of these it sends): before departure (fees,
    documents, contract), at days 30, 90 and 180 of the job (still working, wages, hours, deductions,
    passport), or at any time staff ask."""

    PRE_DEPARTURE = "pre_departure", _("Before departure")
    DAY_30 = "day_30", _("Day 30 of the job")
    DAY_90 = "day_90", _("Day 90 of the job")
    DAY_180 = "day_180", _("Day 180 of the job")
    ANY_TIME = "any_time", _("Any time")


#: The days of employment at which each after-arrival check-in is sent.
CHECK_IN_DAY: dict[str, int] = {CheckInMoment.DAY_30: 30, CheckInMoment.DAY_90: 90, CheckInMoment.DAY_180: 180}


def default_check_in_moments() -> list[str]:
    """The moments a new pilot sends check-ins at: before departure and at days 30, 90 and 180."""
    return [CheckInMoment.PRE_DEPARTURE, CheckInMoment.DAY_30, CheckInMoment.DAY_90, CheckInMoment.DAY_180]
