"""The demo world of DESIGN.md, built by ``manage.py seed_demo``: four pilots with their partners, a few
hundred workers along the journey, and one results-based financing contract per pilot with its claims.

Why it is built the way it is:

- Deterministic. Every choice comes from one ``random.Random(seed)`` and every date is fixed, on or
  before ``AS_OF``, never read from the clock: the same seed tells the same story, so demos, screenshots
  and benchmarks can be repeated.
- Idempotent. Reference data (sectors, organisations, pilots, contracts, users…) is found by natural keys
  and saved only where it differs, since a needless save of a tracked model writes history rows. Workers
  and everything about them are written once, when the demo recruiters have no workers yet.
- Fast at scale. Workers are planned in plain Python and written with ``bulk_create`` a chunk at a time,
  so 100,000 workers take minutes and bounded memory. That bypasses the journey service on purpose: the
  plans follow the same rules (``workers.journey.check_move``), and the tests replay every event through it.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import itertools
import math
import random
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from financing.models import (
    ClaimStatus,
    ContractStatus,
    Decision,
    MetricKind,
    OutcomeClaim,
    OutcomeMetric,
    RbfContract,
    TranchePeriod,
    Verification,
    VerificationMethod,
)
from financing.services import schedule_recompute
from lamp.currencies import quantize
from lamp.history import acting_as
from pilots.models import (
    JobOpening,
    Organisation,
    OrganisationKind,
    PartnerRole,
    Pilot,
    PilotPartner,
    PilotStatus,
    Role,
    Sector,
    User,
    WagePeriod,
)
from pilots.stages import EXITS, PATH, Stage
from recruitment.models import Certification, Recruiter, RecruiterAssignment
from workers.checkins import home_language
from workers.models import (
    CheckIn,
    CheckInMoment,
    Employment,
    Evidence,
    EvidenceKind,
    FeeCategory,
    FeeDeclaration,
    FeeReport,
    FeeSource,
    Gender,
    IdentityDocumentType,
    JourneyEvent,
    SeparationReason,
    Source,
    TrainingEnrollment,
    Worker,
)
from workers.services import (
    CHECK_IN_DAYS,
    check_in_answer,
    check_in_create,
    check_in_language,
    check_in_secret_hash,
)

#: The demo's "today": every event, claim and document of the demo happened on or before it.
AS_OF = datetime.date(2026, 10, 31)
DEFAULT_WORKERS = 400
DEFAULT_SEED = 2026
#: A local demo's password, printed at the end of every run; ``--password`` or DEMO_PASSWORD replace it.
DEFAULT_PASSWORD = "lamp-demo-2026"
#: The most workers the identity-document serials keep unique (see ``_document_number``).
MAX_WORKERS = 10_000_000
#: Workers planned and written per round: bounds memory, and is the ``bulk_create`` batch size.
CHUNK = 5_000

D = datetime.date


# --- The world, as data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgSpec:
    name: str
    kind: str
    country: str
    website: str = ""


ORGANISATIONS: dict[str, OrgSpec] = {
    # The platform's own team, and who pays or oversees.
    "lamp": OrgSpec("Labor Mobility Partnerships (LaMP)", OrganisationKind.NGO, "US"),
    "outcomes_fund": OrgSpec("Corridor Outcomes Fund", OrganisationKind.FUNDER, "US", "https://corridorfund.example"),
    "care_fund": OrgSpec("Canadian Care Workforce Fund", OrganisationKind.FUNDER, "CA", "https://carefund.example"),
    "mintrab_gt": OrgSpec("Ministerio de Trabajo y Previsión Social", OrganisationKind.GOVERNMENT, "GT"),
    "dmw_ph": OrgSpec("Department of Migrant Workers", OrganisationKind.GOVERNMENT, "PH"),
    "worker_centre": OrgSpec("Red de Apoyo al Trabajador Temporal", OrganisationKind.NGO, "GT"),
    # Employers.
    "pacific_crest": OrgSpec("Pacific Crest Berry Farms", OrganisationKind.EMPLOYER, "US"),
    "columbia_orchards": OrgSpec("Columbia Basin Orchards", OrganisationKind.EMPLOYER, "US"),
    "tar_river": OrgSpec("Tar River Sweet Potato Growers", OrganisationKind.EMPLOYER, "US"),
    "sunbelt_citrus": OrgSpec("Sunbelt Citrus Harvesting", OrganisationKind.EMPLOYER, "US"),
    "caribbean_star": OrgSpec("Caribbean Star Cruise Line", OrganisationKind.EMPLOYER, "US"),
    "bajio": OrgSpec("Transportes del Bajío", OrganisationKind.EMPLOYER, "MX"),
    "norte_sur": OrgSpec("Autotransportes Norte-Sur", OrganisationKind.EMPLOYER, "MX"),
    "fletes_pacifico": OrgSpec("Fletes Pacífico Logística", OrganisationKind.EMPLOYER, "MX"),
    "maple_grove": OrgSpec("Maple Grove Senior Living", OrganisationKind.EMPLOYER, "CA"),
    "prairie_haven": OrgSpec("Prairie Haven Care Homes", OrganisationKind.EMPLOYER, "CA"),
    "harbourview": OrgSpec("Harbourview Long-Term Care", OrganisationKind.EMPLOYER, "CA"),
    "stadtpark": OrgSpec("Seniorenzentrum Am Stadtpark", OrganisationKind.EMPLOYER, "DE"),
    # Recruiters (profiles in RECRUITERS).
    "cosecha_justa": OrgSpec("Cosecha Justa Reclutamiento", OrganisationKind.RECRUITER, "GT"),
    "agromigra": OrgSpec("Agromigra Servicios Laborales", OrganisationKind.RECRUITER, "MX"),
    "mar_abierto": OrgSpec("Mar Abierto Talento Marítimo", OrganisationKind.RECRUITER, "GT"),
    "ruta_norte": OrgSpec("Ruta Norte Talento Humano", OrganisationKind.RECRUITER, "SV"),
    "conductores_occidente": OrgSpec("Conductores de Occidente", OrganisationKind.RECRUITER, "GT"),
    "bayanihan": OrgSpec("Bayanihan Care Staffing", OrganisationKind.RECRUITER, "PH"),
    "cuidador_andino": OrgSpec("Talento Cuidador Andino", OrganisationKind.RECRUITER, "CO"),
    # Training providers.
    "hospitality_academy": OrgSpec("Academia de Hospitalidad Marítima", OrganisationKind.TRAINING_PROVIDER, "GT"),
    "driving_school": OrgSpec(
        "Escuela Nacional de Operadores del Autotransporte", OrganisationKind.TRAINING_PROVIDER, "MX"
    ),
    "lingua_bridge": OrgSpec("Lingua Bridge Language Centre", OrganisationKind.TRAINING_PROVIDER, "PH"),
    "careready": OrgSpec("CareReady Training Institute", OrganisationKind.TRAINING_PROVIDER, "PH"),
}


@dataclass(frozen=True)
class RecruiterSpec:
    licence_number: str
    licence_expires_on: datetime.date
    certifications: tuple[str, ...] = ()
    pledge_signed_on: datetime.date | None = None


#: Licences are issued by the recruiter's own country (its organisation's country).
RECRUITERS: dict[str, RecruiterSpec] = {
    "cosecha_justa": RecruiterSpec("MINTRAB-AR-2023-0147", D(2027, 6, 30), (Certification.IRIS,), D(2024, 11, 4)),
    "agromigra": RecruiterSpec("STPS-RCAC-2022-1093", D(2026, 12, 31)),
    "mar_abierto": RecruiterSpec("MINTRAB-AR-2022-0098", D(2027, 3, 31), (Certification.ILO_FAIR,), D(2025, 1, 20)),
    "ruta_norte": RecruiterSpec("MTPS-AP-2024-0031", D(2027, 9, 30), (), D(2025, 8, 18)),
    "conductores_occidente": RecruiterSpec("MINTRAB-AR-2024-0211", D(2027, 12, 31), (), D(2025, 8, 25)),
    "bayanihan": RecruiterSpec(
        "DMW-214-LB-061523-R", D(2027, 6, 14), (Certification.IRIS, Certification.ISO_9001), D(2024, 12, 2)
    ),
    "cuidador_andino": RecruiterSpec("SPE-AGC-2023-0389", D(2026, 11, 30), (Certification.DHAKA,), D(2025, 2, 10)),
}

#: The recruiter organisation that the ``recruiter`` login acts for.
LOGIN_RECRUITER = "cosecha_justa"
#: The employer (an H-2A grower) that the ``employer`` login acts for.
LOGIN_EMPLOYER = "pacific_crest"


@dataclass(frozen=True)
class UserSpec:
    username: str
    first_name: str
    last_name: str
    email: str
    role: str
    organisation: str | None = None
    admin: bool = False


USERS: tuple[UserSpec, ...] = (
    UserSpec("staff", "Sofía", "Castillo", "sofia.castillo@lamp.example", Role.STAFF, admin=True),
    # A second staff member: tranches paying claims that "staff" verified need another approver.
    UserSpec("approver", "Daniel", "Mensah", "daniel.mensah@lamp.example", Role.STAFF, admin=True),
    UserSpec("recruiter", "Luis Fernando", "Ajú", "luis.aju@cosechajusta.example", Role.RECRUITER, LOGIN_RECRUITER),
    UserSpec("funder", "Rachel", "Okafor", "rokafor@corridorfund.example", Role.FUNDER, "outcomes_fund"),
    UserSpec("employer", "Megan", "Hollis", "mhollis@pacificcrest.example", Role.EMPLOYER, LOGIN_EMPLOYER),
)

SECTORS: dict[str, str] = {
    "agriculture": "Agriculture",
    "cruise-hospitality": "Cruise hospitality",
    "trucking": "Long-haul trucking",
    "aged-care": "Aged care",
}


@dataclass(frozen=True)
class Sourcing:
    """A recruiter's part of a pilot: its share of the workers and where they come from."""

    recruiter: str
    share: float
    nationalities: tuple[tuple[str, float], ...]
    assigned_on: datetime.date


@dataclass(frozen=True)
class OpeningSpec:
    employer: str
    title: str
    wage: str
    currency: str
    period: str
    hours: str
    location: str
    country: str
    season_start: datetime.date
    season_end: datetime.date
    share: float
    track: str = ""


@dataclass(frozen=True)
class CourseSpec:
    provider: str
    course: str
    level: str
    language: str = ""
    #: The TRAINED metric a pass earns, if any.
    metric: str = ""
    track: str = ""


@dataclass(frozen=True)
class MetricSpec:
    code: str
    name: str
    kind: str
    price: str | None = None
    #: Instead of a price: (units as a share of the provider's workers, or None for every further unit, price).
    tiers: tuple[tuple[float | None, str], ...] = ()
    retention_days: int | None = None
    #: Pays only while its verified units reach this rate of the PLACED metric's.
    threshold_rate: str | None = None
    max_units_per_worker: int = 1


@dataclass(frozen=True)
class ContractSpec:
    reference: str
    name: str
    payer: str
    provider: str
    currency: str
    start: datetime.date
    end: datetime.date
    signed_on: datetime.date
    #: The total cap, per worker of the pilot, so it scales with ``--workers``.
    cap_per_worker: int
    metrics: tuple[MetricSpec, ...]


@dataclass(frozen=True)
class PilotSpec:
    slug: str
    name: str
    sector: str
    description: str
    origin_countries: tuple[str, ...]
    destination: str
    pathway: str
    status: str
    start: datetime.date
    end: datetime.date
    #: Share of the demo's workers in this pilot.
    share: float
    training: bool
    #: When workers register: uniformly between these dates.
    registration: tuple[datetime.date, datetime.date]
    #: Days from the previous stage to this one (low, high).
    gaps: dict[Stage, tuple[int, int]]
    #: Chance that a returned worker registers for another season (circular migration).
    return_rate: float
    male_share: float
    ages: tuple[int, int]
    sourcing: tuple[Sourcing, ...]
    partners: tuple[tuple[str, str, datetime.date], ...]
    openings: tuple[OpeningSpec, ...]
    courses: tuple[CourseSpec, ...]
    contract: ContractSpec
    #: Visa or permit by track ("" for a pilot with one destination).
    visas: dict[str, str]
    #: Language levels before any training, by nationality: (language, levels to draw from; "" for none).
    languages: dict[str, tuple[tuple[str, tuple[str, ...]], ...]]
    #: Where workers go, for a pilot whose workers split between destinations: (track, share).
    tracks: tuple[tuple[str, float], ...] = (("", 1.0),)

    @property
    def required_stages(self) -> list[str]:
        if self.training:
            return [stage.value for stage in PATH]
        return [stage.value for stage in PATH if stage not in (Stage.IN_TRAINING, Stage.TRAINED)]


def _metrics(
    *, placed: str, retained: str, zero_fee: str, trained: tuple[str, str, str] | None, circular: bool
) -> tuple[MetricSpec, ...]:
    """The standard metrics of a pilot's contract; a circular pilot pays placement and retention per season."""
    units = 2 if circular else 1
    metrics = [
        MetricSpec("PLACED", "Worker placed in a job", MetricKind.PLACED, placed, max_units_per_worker=units),
        MetricSpec(
            "RETAINED_180",
            "Worker still employed 180 days after starting",
            MetricKind.RETAINED_N,
            retained,
            retention_days=180,
            threshold_rate="0.8000",
            max_units_per_worker=units,
        ),
        MetricSpec("ZERO_FEE", "Worker paid no recruitment fee or related cost", MetricKind.ZERO_FEE, zero_fee),
    ]
    if trained:
        code, name, price = trained
        metrics.append(MetricSpec(code, name, MetricKind.TRAINED, price))
    return tuple(metrics)


PILOTS: tuple[PilotSpec, ...] = (
    PilotSpec(
        slug="h2a-agriculture",
        name="H-2A agriculture: Guatemala and Mexico to the United States",
        sector="agriculture",
        description="Seasonal farm work on H-2A visas, recruited at zero cost to the worker; workers who return "
        "home on time are invited back the next season.",
        origin_countries=("GT", "MX"),
        destination="US",
        pathway="H-2A seasonal visa",
        status=PilotStatus.ACTIVE,
        start=D(2025, 1, 6),
        end=D(2026, 12, 18),
        share=0.40,
        training=False,
        registration=(D(2025, 1, 6), D(2026, 9, 15)),
        gaps={
            Stage.SCREENED: (5, 20),
            Stage.MATCHED: (10, 45),
            Stage.VISA_PENDING: (10, 30),
            Stage.VISA_ISSUED: (7, 25),
            Stage.DEPLOYED: (3, 15),
            Stage.WORKING: (1, 3),
            Stage.COMPLETED: (170, 260),
            Stage.RETURNED: (1, 10),
        },
        return_rate=0.6,
        male_share=0.9,
        ages=(20, 48),
        sourcing=(
            Sourcing("cosecha_justa", 0.6, (("GT", 1.0),), D(2024, 12, 16)),
            Sourcing("agromigra", 0.4, (("MX", 1.0),), D(2025, 1, 13)),
        ),
        partners=(
            ("outcomes_fund", PartnerRole.FUNDER, D(2024, 12, 12)),
            ("mintrab_gt", PartnerRole.GOVERNMENT, D(2025, 1, 6)),
            ("worker_centre", PartnerRole.NGO, D(2025, 2, 3)),
            ("lamp", PartnerRole.IMPLEMENTER, D(2024, 11, 1)),
        ),
        openings=(
            OpeningSpec(
                employer="pacific_crest",
                title="Farmworker, strawberries",
                wage="19.97",
                currency="USD",
                period=WagePeriod.HOUR,
                hours="48.0",
                location="Salinas, California",
                country="US",
                season_start=D(2025, 3, 3),
                season_end=D(2025, 11, 14),
                share=0.15,
            ),
            OpeningSpec(
                employer="pacific_crest",
                title="Farmworker, strawberries",
                wage="20.56",
                currency="USD",
                period=WagePeriod.HOUR,
                hours="48.0",
                location="Salinas, California",
                country="US",
                season_start=D(2026, 3, 2),
                season_end=D(2026, 11, 13),
                share=0.15,
            ),
            OpeningSpec(
                employer="columbia_orchards",
                title="Orchard worker, apples and pears",
                wage="19.82",
                currency="USD",
                period=WagePeriod.HOUR,
                hours="45.0",
                location="Wenatchee, Washington",
                country="US",
                season_start=D(2025, 4, 7),
                season_end=D(2025, 11, 21),
                share=0.12,
            ),
            OpeningSpec(
                employer="columbia_orchards",
                title="Orchard worker, apples and pears",
                wage="20.31",
                currency="USD",
                period=WagePeriod.HOUR,
                hours="45.0",
                location="Wenatchee, Washington",
                country="US",
                season_start=D(2026, 4, 6),
                season_end=D(2026, 11, 20),
                share=0.12,
            ),
            OpeningSpec(
                employer="tar_river",
                title="Farmworker, sweet potatoes and tobacco",
                wage="16.94",
                currency="USD",
                period=WagePeriod.HOUR,
                hours="40.0",
                location="Nash County, North Carolina",
                country="US",
                season_start=D(2025, 5, 5),
                season_end=D(2025, 12, 12),
                share=0.1,
            ),
            OpeningSpec(
                employer="tar_river",
                title="Farmworker, sweet potatoes and tobacco",
                wage="17.26",
                currency="USD",
                period=WagePeriod.HOUR,
                hours="40.0",
                location="Nash County, North Carolina",
                country="US",
                season_start=D(2026, 5, 4),
                season_end=D(2026, 12, 11),
                share=0.1,
            ),
            OpeningSpec(
                employer="sunbelt_citrus",
                title="Citrus harvester",
                wage="16.23",
                currency="USD",
                period=WagePeriod.HOUR,
                hours="40.0",
                location="Polk County, Florida",
                country="US",
                season_start=D(2025, 10, 6),
                season_end=D(2026, 6, 12),
                share=0.12,
            ),
        ),
        courses=(),
        contract=ContractSpec(
            reference="H2A-2025",
            name="H-2A responsible recruitment outcomes, 2025–2026",
            payer="outcomes_fund",
            provider="cosecha_justa",
            currency="USD",
            start=D(2025, 1, 1),
            end=D(2026, 12, 31),
            signed_on=D(2024, 12, 12),
            cap_per_worker=2400,
            metrics=(
                *_metrics(placed="450.00", retained="350.00", zero_fee="300.00", trained=None, circular=True),
                # Tiered: the fund pays a little less for volume past the first cohort, then a premium once
                # the recruiter brings back more workers than planned (DESIGN.md's tiers, at demo scale).
                MetricSpec(
                    "COMPLETED_SEASON",
                    "Worker completed the season and returned home",
                    MetricKind.MANUAL,
                    tiers=((0.25, "1100.00"), (0.08, "1000.00"), (None, "1350.00")),
                    max_units_per_worker=2,
                ),
            ),
        ),
        visas={"": "US H-2A visa"},
        languages={"*": (("en", ("", "", "", "A1")),)},
    ),
    PilotSpec(
        slug="cruise-hospitality",
        name="Cruise hospitality: Guatemala to cruise lines",
        sector="cruise-hospitality",
        description="English and hospitality training in Guatemala, then contracts at sea with a cruise line; "
        "the destination is the cruise line's country (its ships fly the Bahamas flag).",
        origin_countries=("GT",),
        destination="US",
        pathway="Seafarer visa (C1/D)",
        status=PilotStatus.ACTIVE,
        start=D(2025, 2, 3),
        end=D(2027, 6, 30),
        share=0.20,
        training=True,
        registration=(D(2025, 2, 3), D(2026, 9, 15)),
        gaps={
            Stage.SCREENED: (5, 20),
            Stage.IN_TRAINING: (7, 30),
            Stage.TRAINED: (60, 120),
            Stage.MATCHED: (7, 30),
            Stage.VISA_PENDING: (7, 20),
            Stage.VISA_ISSUED: (10, 30),
            Stage.DEPLOYED: (7, 30),
            Stage.WORKING: (1, 2),
            Stage.COMPLETED: (180, 270),
            Stage.RETURNED: (1, 5),
        },
        return_rate=0.45,
        male_share=0.55,
        ages=(20, 35),
        sourcing=(
            Sourcing("mar_abierto", 0.85, (("GT", 1.0),), D(2025, 1, 27)),
            Sourcing("cosecha_justa", 0.15, (("GT", 1.0),), D(2025, 9, 1)),
        ),
        partners=(
            ("mintrab_gt", PartnerRole.GOVERNMENT, D(2025, 2, 3)),
            ("lamp", PartnerRole.IMPLEMENTER, D(2025, 1, 6)),
        ),
        openings=(
            OpeningSpec(
                employer="caribbean_star",
                title="Assistant waiter",
                wage="1150.00",
                currency="USD",
                period=WagePeriod.MONTH,
                hours="77.0",
                location="MS Caribbean Star (homeport Miami)",
                country="BS",
                season_start=D(2025, 6, 2),
                season_end=D(2026, 5, 31),
                share=0.2,
            ),
            OpeningSpec(
                employer="caribbean_star",
                title="Stateroom attendant",
                wage="1250.00",
                currency="USD",
                period=WagePeriod.MONTH,
                hours="77.0",
                location="MS Caribbean Star (homeport Miami)",
                country="BS",
                season_start=D(2025, 6, 2),
                season_end=D(2026, 5, 31),
                share=0.15,
            ),
            OpeningSpec(
                employer="caribbean_star",
                title="Galley steward",
                wage="1000.00",
                currency="USD",
                period=WagePeriod.MONTH,
                hours="77.0",
                location="MS Caribbean Dawn (homeport Fort Lauderdale)",
                country="BS",
                season_start=D(2025, 6, 2),
                season_end=D(2026, 5, 31),
                share=0.1,
            ),
            OpeningSpec(
                employer="caribbean_star",
                title="Assistant waiter",
                wage="1190.00",
                currency="USD",
                period=WagePeriod.MONTH,
                hours="77.0",
                location="MS Caribbean Star (homeport Miami)",
                country="BS",
                season_start=D(2026, 6, 1),
                season_end=D(2027, 5, 31),
                share=0.2,
            ),
            OpeningSpec(
                employer="caribbean_star",
                title="Stateroom attendant",
                wage="1290.00",
                currency="USD",
                period=WagePeriod.MONTH,
                hours="77.0",
                location="MS Caribbean Dawn (homeport Fort Lauderdale)",
                country="BS",
                season_start=D(2026, 6, 1),
                season_end=D(2027, 5, 31),
                share=0.15,
            ),
        ),
        courses=(
            CourseSpec(
                provider="hospitality_academy",
                course="English B1 and cruise hospitality, with STCW basic safety",
                level="B1",
                language="en",
                metric="TRAINED_B1",
            ),
        ),
        contract=ContractSpec(
            reference="CRUISE-GT-2025",
            name="Cruise hospitality placements from Guatemala",
            payer="caribbean_star",
            provider="mar_abierto",
            currency="USD",
            start=D(2025, 2, 1),
            end=D(2027, 1, 31),
            signed_on=D(2025, 1, 24),
            cap_per_worker=2200,
            metrics=_metrics(
                placed="800.00",
                retained="500.00",
                zero_fee="250.00",
                trained=("TRAINED_B1", "Worker passed English at B1 or above", "300.00"),
                circular=True,
            ),
        ),
        visas={"": "US C1/D crew visa"},
        languages={"*": (("en", ("A1", "A2", "A2")),)},
    ),
    PilotSpec(
        slug="long-haul-trucking",
        name="Long-haul trucking: Northern Triangle to Mexico",
        sector="trucking",
        description="Heavy-freight drivers from Guatemala, El Salvador and Honduras trained for the Mexican federal "
        "licence and placed with Mexican carriers; a later leg may take them on to the US or Canada.",
        origin_countries=("GT", "SV", "HN"),
        destination="MX",
        pathway="Mexican work permit (temporary resident); H-2B / TFWP for the Mexico → US/Canada leg",
        status=PilotStatus.ACTIVE,
        start=D(2025, 9, 1),
        end=D(2027, 8, 31),
        share=0.18,
        training=True,
        registration=(D(2025, 9, 1), D(2026, 9, 30)),
        gaps={
            Stage.SCREENED: (5, 15),
            Stage.IN_TRAINING: (7, 21),
            Stage.TRAINED: (75, 120),
            Stage.MATCHED: (7, 30),
            Stage.VISA_PENDING: (7, 20),
            Stage.VISA_ISSUED: (20, 60),
            Stage.DEPLOYED: (5, 20),
            Stage.WORKING: (1, 5),
            Stage.COMPLETED: (330, 365),
            Stage.RETURNED: (1, 7),
        },
        return_rate=0.0,
        male_share=0.92,
        ages=(23, 45),
        sourcing=(
            Sourcing("ruta_norte", 0.6, (("SV", 0.55), ("HN", 0.45)), D(2025, 8, 25)),
            Sourcing("conductores_occidente", 0.4, (("GT", 1.0),), D(2025, 9, 1)),
        ),
        partners=(
            ("outcomes_fund", PartnerRole.FUNDER, D(2025, 8, 1)),
            ("mintrab_gt", PartnerRole.GOVERNMENT, D(2025, 9, 1)),
            ("lamp", PartnerRole.IMPLEMENTER, D(2025, 6, 2)),
        ),
        openings=(
            OpeningSpec(
                employer="bajio",
                title="Long-haul driver, tractor-trailer",
                wage="7200.00",
                currency="MXN",
                period=WagePeriod.WEEK,
                hours="60.0",
                location="León, Guanajuato",
                country="MX",
                season_start=D(2026, 1, 5),
                season_end=D(2027, 12, 31),
                share=0.25,
            ),
            OpeningSpec(
                employer="norte_sur",
                title="Long-haul driver, double trailer",
                wage="7800.00",
                currency="MXN",
                period=WagePeriod.WEEK,
                hours="60.0",
                location="Monterrey, Nuevo León",
                country="MX",
                season_start=D(2026, 1, 5),
                season_end=D(2027, 12, 31),
                share=0.2,
            ),
            OpeningSpec(
                employer="fletes_pacifico",
                title="Regional freight driver",
                wage="6500.00",
                currency="MXN",
                period=WagePeriod.WEEK,
                hours="55.0",
                location="Guadalajara, Jalisco",
                country="MX",
                season_start=D(2026, 2, 2),
                season_end=D(2027, 12, 31),
                share=0.15,
            ),
        ),
        courses=(
            CourseSpec(
                provider="driving_school",
                course="Licencia Federal de Conductor, tipo B: tractor-trailer driving",
                level="Licence B",
                metric="TRAINED_LICENCE",
            ),
        ),
        contract=ContractSpec(
            reference="TRUCK-NT-2025",
            name="Long-haul drivers: licence, placement and retention",
            payer="outcomes_fund",
            provider="ruta_norte",
            currency="USD",
            start=D(2025, 9, 1),
            end=D(2027, 8, 31),
            signed_on=D(2025, 8, 20),
            cap_per_worker=2600,
            metrics=_metrics(
                placed="900.00",
                retained="700.00",
                zero_fee="250.00",
                # The driving pilot's training outcome is the licence, not a language level.
                trained=("TRAINED_LICENCE", "Worker earned the federal heavy-freight licence", "400.00"),
                circular=False,
            ),
        ),
        visas={"": "Mexican temporary resident visa with work permit"},
        languages={"*": (("en", ("", "", "", "A1", "A2")),)},
    ),
    PilotSpec(
        slug="aged-care",
        name="Aged care: the Philippines and Latin America to Canada",
        sector="aged-care",
        description="Care workers trained in English (or German) and care skills, placed in Canadian care homes; "
        "a smaller Germany leg shares the training. One destination per pilot: Canada, with the Germany "
        "leg shown by its job openings.",
        origin_countries=("PH", "CO"),
        destination="CA",
        pathway="Caregiver work permit with a PR track (Canada); skilled-worker visa for the Germany leg",
        status=PilotStatus.ACTIVE,
        start=D(2025, 1, 13),
        end=D(2027, 12, 31),
        share=0.22,
        training=True,
        registration=(D(2025, 1, 13), D(2026, 9, 30)),
        gaps={
            Stage.SCREENED: (10, 30),
            Stage.IN_TRAINING: (10, 40),
            Stage.TRAINED: (120, 200),
            Stage.MATCHED: (14, 60),
            Stage.VISA_PENDING: (14, 45),
            Stage.VISA_ISSUED: (30, 90),
            Stage.DEPLOYED: (14, 45),
            Stage.WORKING: (2, 10),
            Stage.COMPLETED: (700, 730),
            Stage.RETURNED: (1, 10),
        },
        return_rate=0.0,
        male_share=0.15,
        ages=(22, 45),
        sourcing=(
            Sourcing("bayanihan", 0.7, (("PH", 1.0),), D(2024, 12, 16)),
            Sourcing("cuidador_andino", 0.3, (("CO", 1.0),), D(2025, 2, 10)),
        ),
        partners=(
            ("care_fund", PartnerRole.FUNDER, D(2024, 12, 2)),
            ("dmw_ph", PartnerRole.GOVERNMENT, D(2025, 1, 13)),
            ("lamp", PartnerRole.IMPLEMENTER, D(2024, 10, 1)),
        ),
        openings=(
            OpeningSpec(
                employer="maple_grove",
                title="Personal support worker",
                wage="22.85",
                currency="CAD",
                period=WagePeriod.HOUR,
                hours="37.5",
                location="Halifax, Nova Scotia",
                country="CA",
                season_start=D(2025, 11, 3),
                season_end=D(2027, 12, 31),
                share=0.12,
                track="CA",
            ),
            OpeningSpec(
                employer="prairie_haven",
                title="Health care aide",
                wage="21.40",
                currency="CAD",
                period=WagePeriod.HOUR,
                hours="40.0",
                location="Winnipeg, Manitoba",
                country="CA",
                season_start=D(2025, 11, 3),
                season_end=D(2027, 12, 31),
                share=0.1,
                track="CA",
            ),
            OpeningSpec(
                employer="harbourview",
                title="Resident care attendant",
                wage="21.90",
                currency="CAD",
                period=WagePeriod.HOUR,
                hours="37.5",
                location="Saint John, New Brunswick",
                country="CA",
                season_start=D(2026, 1, 12),
                season_end=D(2027, 12, 31),
                share=0.08,
                track="CA",
            ),
            OpeningSpec(
                employer="stadtpark",
                title="Care assistant (Pflegehilfskraft)",
                wage="2950.00",
                currency="EUR",
                period=WagePeriod.MONTH,
                hours="39.0",
                location="Bremen",
                country="DE",
                season_start=D(2025, 11, 3),
                season_end=D(2027, 12, 31),
                share=0.06,
                track="DE",
            ),
        ),
        courses=(
            CourseSpec(
                provider="lingua_bridge",
                course="English for care workers (CLB 5 / B1)",
                level="B1",
                language="en",
                metric="TRAINED_B1",
                track="CA",
            ),
            CourseSpec(
                provider="lingua_bridge",
                course="German for care workers (Goethe B1)",
                level="B1",
                language="de",
                metric="TRAINED_B1",
                track="DE",
            ),
            CourseSpec(provider="careready", course="Caregiving NC II with Canadian PSW bridging", level="NC II"),
        ),
        contract=ContractSpec(
            reference="CARE-CA-2025",
            name="Aged care: language, placement and retention",
            payer="care_fund",
            provider="bayanihan",
            currency="CAD",
            start=D(2025, 1, 1),
            end=D(2027, 12, 31),
            signed_on=D(2024, 12, 2),
            cap_per_worker=4800,
            metrics=_metrics(
                placed="1500.00",
                retained="1200.00",
                zero_fee="400.00",
                trained=("TRAINED_B1", "Worker passed the care language course at B1", "900.00"),
                circular=False,
            ),
        ),
        visas={"CA": "Canadian work permit (LMIA-based)", "DE": "German national visa, § 16a AufenthG"},
        languages={"PH": (("en", ("A2", "B1", "B1", "B2")),), "*": (("en", ("", "A1", "A2")),)},
        tracks=(("CA", 0.8), ("DE", 0.2)),
    ),
)

#: Chance of each exit at each step from a stage (checked against ``stages.EXIT_FROM`` by the tests).
EXIT_RATES: dict[Stage, tuple[tuple[Stage, float], ...]] = {
    Stage.REGISTERED: ((Stage.WITHDRAWN, 0.02), (Stage.NOT_SELECTED, 0.03)),
    Stage.SCREENED: ((Stage.WITHDRAWN, 0.02), (Stage.NOT_SELECTED, 0.06)),
    Stage.IN_TRAINING: ((Stage.WITHDRAWN, 0.03), (Stage.NOT_SELECTED, 0.05)),
    Stage.TRAINED: ((Stage.WITHDRAWN, 0.02),),
    Stage.MATCHED: ((Stage.WITHDRAWN, 0.02), (Stage.NOT_SELECTED, 0.02)),
    Stage.VISA_PENDING: ((Stage.VISA_DENIED, 0.05), (Stage.WITHDRAWN, 0.01)),
    Stage.VISA_ISSUED: ((Stage.WITHDRAWN, 0.01),),
    Stage.DEPLOYED: ((Stage.SEPARATED_EARLY, 0.01),),
    Stage.WORKING: ((Stage.SEPARATED_EARLY, 0.08),),
}

SEPARATION_REASONS: tuple[tuple[str, float], ...] = (
    (SeparationReason.RESIGNED, 0.35),
    (SeparationReason.INJURY_OR_ILLNESS, 0.2),
    (SeparationReason.DISMISSED, 0.12),
    (SeparationReason.REPATRIATED, 0.1),
    (SeparationReason.EMPLOYER_CLOSED, 0.08),
    (SeparationReason.ABSCONDED, 0.1),
    (SeparationReason.OTHER, 0.05),
)


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split(", "))


@dataclass(frozen=True)
class Names:
    male: tuple[str, ...]
    female: tuple[str, ...]
    family: tuple[str, ...]
    #: Latin American names carry the father's and the mother's family names.
    two_family_names: bool = True


NAMES: dict[str, Names] = {
    "GT": Names(
        male=_names(
            "José, Juan Carlos, Luis Fernando, Carlos, Miguel Ángel, Marvin, Byron, Edwin, Selvin, Érick, "
            "Kevin, Wilson, Elmer, Otto René, Rony, Jorge Mario, Francisco, Pedro, Diego, Cristian, Brayan, "
            "Josué, Mynor, Estuardo, Gerson, Oswaldo"
        ),
        female=_names(
            "María José, Ana Lucía, Sonia, Glenda, Heidy, Mildred, Yesenia, Karla, Dulce María, Rosa, Juana, "
            "Marleny, Gabriela, Andrea, Ingrid, Wendy, Lesbia, Sandra, Flor de María, Evelyn, Astrid, Claudia"
        ),
        family=_names(
            "López, García, Pérez, Hernández, Gómez, Ajú, Tzoc, Xicará, Cux, Chávez, Morales, Ramírez, "
            "Juárez, Méndez, Coj, Chiquín, Tum, Batz, Sical, Caal, Choc, Pop, Yat, Mazariegos, Orellana, "
            "Barrios, Castillo, Velásquez, de León, Escobar, Sontay, Ixcoy"
        ),
    ),
    "MX": Names(
        male=_names(
            "José Luis, Juan, Miguel, Jesús, Francisco Javier, Alejandro, Raúl, Arturo, Eduardo, Ricardo, "
            "Óscar, Martín, Rogelio, Ulises, Gerardo, Héctor, Efraín, Abel, Isidro"
        ),
        female=_names(
            "Guadalupe, María Elena, Verónica, Alejandra, Leticia, Araceli, Rocío, Patricia, Claudia, Itzel, "
            "Brenda, Yolanda, Xóchitl"
        ),
        family=_names(
            "Hernández, García, Martínez, López, González, Rodríguez, Pérez, Sánchez, Ramírez, Cruz, Flores, "
            "Gómez, Morales, Vázquez, Reyes, Jiménez, Torres, Díaz, Gutiérrez, Ruiz, Mendoza, Aguilar, Ortiz, "
            "Castillo, Romero, Chávez, Salazar, Zúñiga"
        ),
    ),
    "SV": Names(
        male=_names(
            "José Antonio, Carlos Alberto, Óscar Armando, Nelson, Walter, René, Mauricio, Roberto, William, "
            "Edgardo, Jonathan, Fredy, Salvador, Douglas, Wilfredo"
        ),
        female=_names(
            "Ana Cecilia, Roxana, Xiomara, Karen, Fátima, Marta Alicia, Iris, Yanira, Claudia, Evelyn, Reina"
        ),
        family=_names(
            "Hernández, Martínez, López, Rivera, Flores, Romero, Ramírez, Cruz, Alvarado, Mejía, Portillo, "
            "Orellana, Argueta, Guardado, Menjívar, Quintanilla, Ayala, Henríquez, Rodríguez, Chicas, Lemus"
        ),
    ),
    "HN": Names(
        male=_names(
            "José Manuel, Kevin, Melvin, Elvin, Darwin, Wilmer, Denis, Osman, Carlos Roberto, Héctor, Jairo, "
            "Lenin, Nahúm, Allan, Santos"
        ),
        female=_names("Dunia, Lesly, Nohemí, Yessenia, Ingrid, Daysi, Suyapa, Marlen, Lourdes, Sindy"),
        family=_names(
            "Martínez, Hernández, López, Rodríguez, Mejía, Zelaya, Maradiaga, Reyes, Funes, Bonilla, Cárcamo, "
            "Lagos, Banegas, Matamoros, Velásquez, Discua, Turcios, Ordóñez, Sosa, Amaya"
        ),
    ),
    "PH": Names(
        male=_names(
            "Jose Mari, Mark Anthony, John Paul, Rommel, Jerome, Ronaldo, Christian, Arnel, Joel, Ramil, Jayson, Dennis"
        ),
        female=_names(
            "Maria Cristina, Ma. Theresa, Rowena, Jocelyn, Marivic, Analyn, Lovely, Princess, Rhea, Kristine, "
            "Jennylyn, Mary Grace, Cherry Ann, Joy, Erlinda, Angelica, Hazel, Liezl, Rosalie, Charmaine"
        ),
        family=_names(
            "Santos, Reyes, Cruz, Bautista, Ocampo, Garcia, Mendoza, Torres, Tomas, Andrada, Castillo, "
            "Flores, Villanueva, Ramos, Castro, Rivera, Aquino, Navarro, Salazar, Mercado, Dela Cruz, De, "
            "Guzman, Manalo, Pangilinan, Macaraeg, Dizon, Soriano, Lacson"
        ),
        two_family_names=False,
    ),
    "CO": Names(
        male=_names("Juan David, Andrés Felipe, Carlos Andrés, Jhon Jairo, Sebastián, Diego Alejandro"),
        female=_names(
            "Luz Marina, Diana Carolina, Paola Andrea, Yuliana, Leidy Johana, Sandra Milena, Ángela María, "
            "Viviana, Natalia, Claudia Patricia, Marcela, Daniela"
        ),
        family=_names(
            "Rodríguez, Gómez, González, Martínez, García, López, Hernández, Sánchez, Ramírez, Pérez, Díaz, "
            "Muñoz, Rojas, Moreno, Jiménez, Vargas, Castaño, Ospina, Restrepo, Cardona, Zapata, Osorio, "
            "Quintero, Giraldo"
        ),
    ),
}

#: Country calling code and the shape of a mobile number ("#" is a digit).
PHONES: dict[str, tuple[str, tuple[str, ...]]] = {
    "GT": ("+502", ("3### ####", "4### ####", "5### ####")),
    "MX": ("+52", ("951 ### ####", "961 ### ####", "443 ### ####", "493 ### ####", "871 ### ####", "33 #### ####")),
    "SV": ("+503", ("7### ####", "6### ####")),
    "HN": ("+504", ("9###-####", "3###-####", "8###-####")),
    "PH": ("+63", ("917 ### ####", "918 ### ####", "927 ### ####", "998 ### ####")),
    "CO": ("+57", ("310 ### ####", "311 ### ####", "300 ### ####", "320 ### ####")),
}

#: Passport number shapes; ``{serial}`` is unique per demo worker (see ``_document_number``).
PASSPORTS: dict[str, str] = {
    "GT": "2{serial:08d}",
    "MX": "G{serial:08d}",
    "SV": "A{serial:08d}",
    "HN": "F{serial:07d}",
    "PH": "P{serial:07d}{letter}",
    "CO": "AV{serial:07d}",
}

#: Where workers fly from, for travel records.
AIRPORTS: dict[str, str] = {"GT": "GUA", "MX": "MEX", "SV": "SAL", "HN": "SAP", "PH": "MNL", "CO": "BOG"}

#: The currency a worker pays fees in, and fixed demo exchange rates per US dollar.
FEE_CURRENCIES: dict[str, tuple[str, Decimal]] = {
    "GT": ("GTQ", Decimal("7.7")),
    "MX": ("MXN", Decimal("18.5")),
    "SV": ("USD", Decimal("1")),
    "HN": ("HNL", Decimal("26")),
    "PH": ("PHP", Decimal("58")),
    "CO": ("COP", Decimal("4100")),
}


@dataclass(frozen=True)
class FeeKind:
    category: str
    weight: float
    usd: tuple[int, int]
    paid_to: str
    deducted_rate: float = 0.0


#: What workers report having paid. Mostly small related costs; a few recruitment fees and bribes or deposits.
FEE_KINDS: tuple[FeeKind, ...] = (
    FeeKind(FeeCategory.MEDICAL, 28, (40, 120), "Private clinic: pre-departure medical exam"),
    FeeKind(FeeCategory.ADMINISTRATIVE, 24, (30, 90), "Passport office and a document courier"),
    FeeKind(FeeCategory.TRAVEL_LODGING, 20, (15, 80), "Bus and lodging in the capital for the visa interview"),
    FeeKind(FeeCategory.SKILLS_TESTS, 5, (20, 60), "Trade test centre"),
    FeeKind(FeeCategory.TRAINING, 5, (50, 200), "Training centre enrolment fee"),
    FeeKind(FeeCategory.EQUIPMENT, 4, (20, 80), "Work boots and gloves sold by the recruiter's office", 0.3),
    FeeKind(FeeCategory.INSURANCE, 3, (20, 60), "Travel insurance broker"),
    FeeKind(FeeCategory.RECRUITMENT_FEE, 6, (300, 1200), "Sub-agent (local intermediary)", 0.5),
    FeeKind(FeeCategory.ILLEGITIMATE, 10, (600, 2500), 'Sub-agent: cash deposit ("garantía") against leaving early'),
    FeeKind(FeeCategory.OTHER, 2, (10, 50), "Photocopies, photos and notarised copies"),
)

CEFR = ("A1", "A2", "B1", "B2", "C1", "C2")


# --- Plans: a worker's whole story in plain Python, before any row is written ---------------------


@dataclass(slots=True)
class EvidencePlan:
    kind: str
    on: datetime.date
    reference: str
    description: str
    facts: dict[str, Any]
    season: int
    #: The journey event this document supports, if any.
    stage: Stage | None = None
    #: Who supplies it: the worker's ``recruiter``, the ``employer`` (``org`` names it), the ``worker`` through
    #: their own link, or a training ``provider`` (``org``).
    by: str = "recruiter"
    org: str = ""


@dataclass(slots=True)
class EmploymentPlan:
    opening: int
    start: datetime.date
    end: datetime.date | None
    reason: str
    #: Index of the employer attestation in the worker's evidence; None when the employer has not sent one.
    attestation: int | None = None


@dataclass(slots=True)
class TrainingPlan:
    course: int
    enrolled_on: datetime.date
    completed_on: datetime.date | None
    passed: bool | None
    level: str
    certificate: int | None = None


@dataclass(slots=True)
class FeePlan:
    kind: FeeKind
    amount: Decimal
    currency: str
    paid_on: datetime.date
    source: str
    deducted: bool


@dataclass(slots=True)
class ClaimPlan:
    metric: str
    unit: int
    achieved_on: datetime.date
    status: str
    verified_on: datetime.date | None = None
    rejection_reason: str = ""
    #: The verification, if the claim was checked ("" when it waits for one).
    decision: str = ""
    method: str = ""
    rule: str = ""
    reason: str = ""
    facts: dict[str, Any] = field(default_factory=dict)
    #: Index of the evidence the verification relied on, added to its facts once written.
    evidence: int | None = None


@dataclass(slots=True)
class WorkerPlan:
    pilot: PilotSpec
    recruiter: str
    given_names: str
    family_names: str
    date_of_birth: datetime.date
    gender: str
    nationality: str
    phone: str
    email: str
    document: str
    consent_at: datetime.datetime
    track: str
    languages: dict[str, str] = field(default_factory=dict)
    #: (season, stage, date), in order.
    events: list[tuple[int, Stage, datetime.date]] = field(default_factory=list)
    evidence: list[EvidencePlan] = field(default_factory=list)
    employments: list[EmploymentPlan] = field(default_factory=list)
    trainings: list[TrainingPlan] = field(default_factory=list)
    fees: list[FeePlan] = field(default_factory=list)
    claims: list[ClaimPlan] = field(default_factory=list)


T = TypeVar("T")


def _weighted(rng: random.Random, options: Sequence[tuple[T, float]]) -> T:
    return rng.choices([value for value, _ in options], weights=[weight for _, weight in options])[0]


def _days(rng: random.Random, low: int, high: int) -> datetime.timedelta:
    return datetime.timedelta(days=rng.randint(low, high))


def _at(day: datetime.date, hour: int = 15) -> datetime.datetime:
    """An instant on a demo day (UTC), for timestamps that have no story of their own."""
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


def _ascii(text: str) -> str:
    """``"Ma. Theresa"`` -> ``"matheresa"``: a name as the local part of an e-mail address."""
    return re.sub(r"[^a-z]", "", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower())


def _document_number(nationality: str, serial: int) -> str:
    return PASSPORTS[nationality].format(serial=serial, letter="ABCDEFGHJKLMNPRSTUVWXYZ"[serial % 23])


def _phone(rng: random.Random, nationality: str) -> str:
    """A number of the shapes the country uses, stored in E.164 as a registration stores it (``+50255550100``)."""
    code, shapes = PHONES[nationality]
    shape = rng.choice(shapes)
    return code + "".join(str(rng.randint(0, 9)) if char == "#" else char for char in shape if char not in " -")


def _plan_worker(rng: random.Random, *, spec: PilotSpec, serial: int) -> WorkerPlan:
    """Draw one worker of ``spec`` and their whole story: person, journey by season, documents, money."""
    sourcing = _weighted(rng, [(s, s.share) for s in spec.sourcing])
    nationality = _weighted(rng, sourcing.nationalities)
    roll = rng.random()
    if roll < 0.005:
        gender = Gender.UNDISCLOSED
    elif roll < spec.male_share:
        gender = Gender.MALE
    else:
        gender = Gender.FEMALE
    names = NAMES[nationality]
    given = rng.choice(names.female if gender == Gender.FEMALE else names.male)
    paternal = rng.choice(names.family)
    family = f"{paternal} {rng.choice(names.family)}" if names.two_family_names else paternal
    email = ""
    if rng.random() < 0.4:
        email = f"{_ascii(given.split()[0])}.{_ascii(paternal)}{rng.randint(1, 99)}@mail.example"
    low, high = spec.registration
    registered = low + _days(rng, 0, (high - low).days)
    plan = WorkerPlan(
        pilot=spec,
        recruiter=sourcing.recruiter,
        given_names=given,
        family_names=family,
        date_of_birth=AS_OF - _days(rng, spec.ages[0] * 365, spec.ages[1] * 365 + 364),
        gender=gender,
        nationality=nationality,
        phone=_phone(rng, nationality),
        email=email,
        document=_document_number(nationality, serial),
        consent_at=_at(registered, rng.randint(9, 17)),
        track=_weighted(rng, spec.tracks),
    )
    base = spec.languages.get(nationality, spec.languages["*"])
    plan.languages = {lang: level for lang, levels in base if (level := rng.choice(levels))}
    season = 1
    while True:
        last_stage, last_on = _plan_season(rng, plan, season=season, registered=registered)
        if last_stage != Stage.RETURNED or rng.random() >= spec.return_rate:
            break
        registered = last_on + _days(rng, 45, 150)
        if registered > AS_OF:
            break
        season += 1
    _plan_fees(rng, plan)
    if sourcing.recruiter == spec.contract.provider:
        _plan_claims(rng, plan)
    return plan


def _journey(rng: random.Random, spec: PilotSpec, registered: datetime.date) -> list[tuple[Stage, datetime.date]]:
    """One season's events: along the pilot's required stages until an exit or the demo's today.

    Each step takes a drawn number of days; an exit, when drawn, happens part-way through that step.
    Stages fall strictly on different days, so the events' order is also their dates' order.
    """
    required = set(spec.required_stages)
    path = [stage for stage in PATH if stage in required]
    events = [(Stage.REGISTERED, registered)]
    for current, following in itertools.pairwise(path):
        on = events[-1][1]
        gap = rng.randint(*spec.gaps[following])
        for exit_stage, rate in EXIT_RATES.get(current, ()):
            if rng.random() < rate:
                exit_on = on + datetime.timedelta(days=rng.randint(1, max(1, gap - 1)))
                if exit_on <= AS_OF:
                    events.append((exit_stage, exit_on))
                return events
        if on + datetime.timedelta(days=gap) > AS_OF:
            return events
        events.append((following, on + datetime.timedelta(days=gap)))
    return events


def _plan_season(
    rng: random.Random, plan: WorkerPlan, *, season: int, registered: datetime.date
) -> tuple[Stage, datetime.date]:
    """Add one season's journey and what follows from it: training, documents and the job."""
    spec = plan.pilot
    events = _journey(rng, spec, registered)
    plan.events.extend((season, stage, on) for stage, on in events)
    on = dict(events)
    last_stage, last_on = events[-1]

    if Stage.IN_TRAINING in on:
        _plan_training(
            rng,
            plan,
            season=season,
            started=on[Stage.IN_TRAINING],
            ended=(last_stage, last_on),
            trained_on=on.get(Stage.TRAINED),
        )
    visa = spec.visas[plan.track]
    if Stage.VISA_ISSUED in on:
        plan.evidence.append(
            EvidencePlan(
                EvidenceKind.VISA,
                on[Stage.VISA_ISSUED],
                f"{visa} no. {rng.randint(10**8, 10**9 - 1)}",
                f"{visa}, issued {on[Stage.VISA_ISSUED]:%d %b %Y}",
                {"visa": visa, "issued_on": on[Stage.VISA_ISSUED].isoformat()},
                season,
                Stage.VISA_ISSUED,
            )
        )
    if Stage.DEPLOYED not in on:
        return last_stage, last_on

    deployed = on[Stage.DEPLOYED]
    opening = _choose_opening(rng, spec, plan.track, deployed)
    place = spec.openings[opening]
    employer = ORGANISATIONS[place.employer].name
    plan.evidence.append(
        EvidencePlan(
            EvidenceKind.TRAVEL_RECORD,
            deployed,
            f"Travel {AIRPORTS[plan.nationality]} → {place.location}, {deployed}",
            f"Boarding and arrival record, {place.location}",
            {"arrived_on": deployed.isoformat()},
            season,
            Stage.DEPLOYED,
        )
    )
    start = on.get(Stage.WORKING, deployed)
    end, reason = None, ""
    if last_stage == Stage.SEPARATED_EARLY:
        end, reason = last_on, _weighted(rng, SEPARATION_REASONS)
    elif Stage.COMPLETED in on:
        end, reason = on[Stage.COMPLETED], SeparationReason.CONTRACT_COMPLETED
    employment = EmploymentPlan(opening, start, end, reason)
    attested_on = start + _days(rng, 1, 10)
    if attested_on <= AS_OF and rng.random() >= 0.03:
        employment.attestation = len(plan.evidence)
        plan.evidence.append(
            EvidencePlan(
                EvidenceKind.EMPLOYER_ATTESTATION,
                attested_on,
                f"{employer}: start-of-employment letter {start.year}-{rng.randint(1000, 9999)}",
                f"{employer} confirms that employment as {place.title} started on {start}",
                {"employment_started_on": start.isoformat(), "employer": employer},
                season,
                by="employer",
                org=place.employer,
            )
        )
    payroll_on = start + _days(rng, 40, 60)
    if payroll_on <= (end or AS_OF) and rng.random() < 0.4:
        plan.evidence.append(
            EvidencePlan(
                EvidenceKind.PAYROLL_RECORD,
                payroll_on,
                f"{employer} payroll export {payroll_on:%Y-%m}",
                f"Pay slips for {payroll_on:%B %Y}",
                {
                    "wage": place.wage,
                    "currency": place.currency,
                    "employment_started_on": start.isoformat(),
                    "period_start": (payroll_on - datetime.timedelta(days=13)).isoformat(),
                    "period_end": payroll_on.isoformat(),
                    "deductions": [{"purpose": "tax"}, {"purpose": "housing"}],
                },
                season,
                by="employer",
                org=place.employer,
            )
        )
    surveyed_on = deployed + _days(rng, 20, 60)
    if surveyed_on <= AS_OF and rng.random() < 0.8:
        plan.evidence.append(
            EvidencePlan(
                EvidenceKind.WORKER_SURVEY,
                surveyed_on,
                f"Worker survey (signed link), season {season}",
                "The worker's own answers on fees, wages and employment",
                {"fee_paid": False, "working": end is None or end > surveyed_on},
                season,
                by="worker",
            )
        )
    plan.employments.append(employment)
    return last_stage, last_on


def _choose_opening(rng: random.Random, spec: PilotSpec, track: str, start: datetime.date) -> int:
    """An opening of the worker's track whose season holds ``start``, else the one starting closest to it."""
    candidates = [i for i, o in enumerate(spec.openings) if o.track == track]
    current = [i for i in candidates if spec.openings[i].season_start <= start <= spec.openings[i].season_end]
    if current:
        return _weighted(rng, [(i, spec.openings[i].share) for i in current])
    return min(candidates, key=lambda i: abs((spec.openings[i].season_start - start).days))


def _plan_training(
    rng: random.Random,
    plan: WorkerPlan,
    *,
    season: int,
    started: datetime.date,
    ended: tuple[Stage, datetime.date],
    trained_on: datetime.date | None,
) -> None:
    """Courses of the worker's track: passed on ``trained``; the first failed when not selected in training."""
    spec = plan.pilot
    last_stage, last_on = ended
    failed = last_stage == Stage.NOT_SELECTED and trained_on is None
    courses = [i for i, c in enumerate(spec.courses) if c.track in ("", plan.track)]
    for position, index in enumerate(courses):
        course = spec.courses[index]
        training = TrainingPlan(index, started, None, None, "")
        if trained_on is not None:
            training.completed_on, training.passed, training.level = trained_on, True, course.level
            training.certificate = len(plan.evidence)
            provider = ORGANISATIONS[course.provider].name
            plan.evidence.append(
                EvidencePlan(
                    EvidenceKind.CERTIFICATE,
                    trained_on,
                    f"{provider} certificate {trained_on.year}-{rng.randint(1, 99999):05d}",
                    f"Certificate: {course.course}",
                    {"course": course.course, "level": course.level, "passed": True},
                    season,
                    Stage.TRAINED if position == 0 else None,
                    by="provider",
                    org=course.provider,
                )
            )
            if course.language and _cefr_rank(course.level) > _cefr_rank(plan.languages.get(course.language, "")):
                plan.languages[course.language] = course.level
        elif failed and position == 0:
            training.completed_on, training.passed = last_on, False
            training.level = plan.languages.get(course.language, "")
        plan.trainings.append(training)


def _cefr_rank(level: str) -> int:
    return CEFR.index(level) if level in CEFR else -1


def _plan_fees(rng: random.Random, plan: WorkerPlan) -> None:
    """Fees found in the first season: reported in the worker's survey, by staff on a visit, or by the recruiter.

    A fee the survey reports makes the survey say so; a fee staff find may contradict a survey that says
    none was paid, which is what sends a ZERO_FEE claim to review.
    """
    first = [(stage, on) for season, stage, on in plan.events if season == 1]
    paid_window = [on for stage, on in first if stage in (Stage.SCREENED, Stage.MATCHED, Stage.VISA_PENDING)]
    if not paid_window:
        return
    survey = next((e for e in plan.evidence if e.kind == EvidenceKind.WORKER_SURVEY and e.season == 1), None)
    sources = []
    if survey is not None and rng.random() < 0.1:
        sources.extend([FeeSource.WORKER_SURVEY] * rng.choice((1, 1, 2)))
    if Stage.MATCHED in dict(first) and rng.random() < 0.015:
        sources.append(FeeSource.STAFF)
    if rng.random() < 0.005:
        sources.append(FeeSource.RECRUITER)
    currency, rate = FEE_CURRENCIES[plan.nationality]
    for source in sources:
        kind = _weighted(rng, [(k, k.weight) for k in FEE_KINDS])
        local = Decimal(rng.randint(*kind.usd)) * rate
        step = Decimal(5) if currency == "USD" else Decimal(10)
        amount = quantize((local / step).to_integral_value() * step, currency)
        plan.fees.append(
            FeePlan(kind, amount, currency, rng.choice(paid_window), source, rng.random() < kind.deducted_rate)
        )
    reported = [fee for fee in plan.fees if fee.source == FeeSource.WORKER_SURVEY]
    if survey is not None and reported:
        survey.facts = {
            **survey.facts,
            "fee_paid": True,
            "fees": [{"category": f.kind.category, "amount": str(f.amount), "currency": f.currency} for f in reported],
        }


def _plan_claims(rng: random.Random, plan: WorkerPlan) -> None:
    """The provider's claims for this worker, and how each was decided by the demo's today.

    Verified when the metric's rule holds on the evidence, some days after the outcome and within the
    contract; still waiting when that day has not come (or staff have not got to it); rejected where the
    evidence says otherwise: no employer attestation, or a survey that reports a fee.
    """
    contract = plan.pilot.contract
    for metric in contract.metrics:
        if metric.kind == MetricKind.PLACED:
            for unit, job in enumerate(plan.employments[: metric.max_units_per_worker], start=1):
                if job.attestation is None:
                    reason = f"No employer attestation on file for the employment that started on {job.start}."
                    _add_claim(rng, plan, metric, unit, job.start, rejection=reason, method=VerificationMethod.STAFF)
                else:
                    _add_claim(
                        rng,
                        plan,
                        metric,
                        unit,
                        job.start,
                        rule="placed",
                        evidence=job.attestation,
                        facts={"employment_started_on": job.start.isoformat()},
                    )
        elif metric.kind == MetricKind.RETAINED_N:
            days = datetime.timedelta(days=metric.retention_days or 0)
            retained = [job for job in plan.employments if job.start + days <= (job.end or AS_OF)]
            for unit, job in enumerate(retained[: metric.max_units_per_worker], start=1):
                _add_claim(
                    rng,
                    plan,
                    metric,
                    unit,
                    job.start + days,
                    rule=f"retained_{metric.retention_days}",
                    facts={"employment_started_on": job.start.isoformat(), "days": metric.retention_days},
                )
        elif metric.kind == MetricKind.ZERO_FEE:
            _plan_zero_fee_claim(rng, plan, metric)
        elif metric.kind == MetricKind.TRAINED:
            passed = [t for t in plan.trainings if t.passed and plan.pilot.courses[t.course].metric == metric.code]
            if passed and passed[0].completed_on:
                course = plan.pilot.courses[passed[0].course]
                _add_claim(
                    rng,
                    plan,
                    metric,
                    1,
                    passed[0].completed_on,
                    rule="trained",
                    evidence=passed[0].certificate,
                    facts={"course": course.course, "level": course.level},
                )
        elif metric.kind == MetricKind.MANUAL:
            returned = [on for _, stage, on in plan.events if stage == Stage.RETURNED]
            for unit, on in enumerate(returned[: metric.max_units_per_worker], start=1):
                _add_claim(
                    rng,
                    plan,
                    metric,
                    unit,
                    on,
                    method=VerificationMethod.STAFF,
                    reason="End-of-season letter from the employer and the return travel record checked.",
                )


def _plan_zero_fee_claim(rng: random.Random, plan: WorkerPlan, metric: MetricSpec) -> None:
    survey_index = next((i for i, e in enumerate(plan.evidence) if e.kind == EvidenceKind.WORKER_SURVEY), None)
    if survey_index is None:
        return
    survey = plan.evidence[survey_index]
    facts = {"fee_paid": survey.facts["fee_paid"], "fee_reports_above_zero": len(plan.fees)}
    if survey.facts["fee_paid"]:
        if rng.random() < 0.3:
            _add_claim(
                rng,
                plan,
                metric,
                1,
                survey.on,
                rule="zero_fee",
                evidence=survey_index,
                facts=facts,
                # The provider reads this: the finding, never which source (here the worker) reported it.
                rejection="A fee paid in recruitment is on record: the zero-fee outcome is not met.",
            )
    elif plan.fees:
        # The survey says no fee, a fee report says otherwise: the rule does not decide, staff will.
        _add_claim(
            rng,
            plan,
            metric,
            1,
            survey.on,
            rule="zero_fee",
            evidence=survey_index,
            facts=facts,
            review="The survey reports no fee, but a fee report above zero exists for this worker.",
        )
    else:
        _add_claim(rng, plan, metric, 1, survey.on, rule="zero_fee", evidence=survey_index, facts=facts)


def _add_claim(
    rng: random.Random,
    plan: WorkerPlan,
    metric: MetricSpec,
    unit: int,
    achieved_on: datetime.date,
    *,
    rule: str = "",
    method: str = VerificationMethod.AUTOMATIC,
    reason: str = "",
    facts: dict[str, Any] | None = None,
    evidence: int | None = None,
    rejection: str = "",
    review: str = "",
) -> None:
    contract = plan.pilot.contract
    decided_on = max(achieved_on + _days(rng, 3, 30), contract.start)
    claim = ClaimPlan(metric.code, unit, achieved_on, ClaimStatus.CLAIMED, facts=facts or {}, evidence=evidence)
    if decided_on > min(AS_OF, contract.end) or rng.random() < 0.04:
        plan.claims.append(claim)  # not checked yet
        return
    claim.method, claim.rule = method, rule if method == VerificationMethod.AUTOMATIC else ""
    if review:
        claim.decision, claim.reason = Decision.NEEDS_REVIEW, review
    elif rejection:
        claim.status, claim.rejection_reason = ClaimStatus.REJECTED, rejection
        claim.decision, claim.reason = Decision.REJECTED, rejection
    else:
        claim.status, claim.verified_on = ClaimStatus.VERIFIED, decided_on
        claim.decision, claim.reason = Decision.VERIFIED, reason
    plan.claims.append(claim)


# --- Writing -------------------------------------------------------------------------------------


@dataclass
class World:
    """The reference rows the workers are written against, by the keys of the specs above."""

    organisations: dict[str, Organisation]
    recruiters: dict[str, Recruiter]
    pilots: dict[str, Pilot]
    openings: dict[str, list[JobOpening]]
    metrics: dict[tuple[str, str], OutcomeMetric]
    users: dict[str, User]


M = TypeVar("M", bound=models.Model)


def _comparable(model: type[models.Model], name: str, value: Any) -> Any:
    model_field = model._meta.get_field(name)
    if model_field.is_relation:
        return value.pk if value is not None else None
    return model_field.get_prep_value(value)


def _upsert(model: type[M], lookup: dict[str, Any], values: dict[str, Any]) -> M:
    """Find a row by its natural key; create it, or save the fields that differ — and only those.

    Saving an unchanged contract or metric would still write a history row (and bump ``updated_at``),
    so a second run of the seed must leave identical rows untouched.
    """
    row = model._default_manager.filter(**lookup).first()
    if row is None:
        row = model(**lookup, **values)
        row.full_clean()
        row.save()
        return row
    changed = [
        name
        for name, value in values.items()
        if _comparable(model, name, getattr(row, name)) != _comparable(model, name, value)
    ]
    if changed:
        for name in changed:
            setattr(row, name, values[name])
        row.full_clean()
        auto_now = [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
        row.save(update_fields=changed + auto_now)
    return row


def _pilot_sizes(total: int) -> dict[str, int]:
    """Split ``total`` workers over the pilots by their shares (largest remainder, so they add up)."""
    exact = {spec.slug: total * spec.share for spec in PILOTS}
    sizes = {slug: math.floor(value) for slug, value in exact.items()}
    by_remainder = sorted(exact, key=lambda slug: (-(exact[slug] - sizes[slug]), slug))
    for slug in by_remainder[: total - sum(sizes.values())]:
        sizes[slug] += 1
    return sizes


def _ensure_world(sizes: dict[str, int], password: str) -> World:
    sectors = {code: _upsert(Sector, {"code": code}, {"name": name}) for code, name in SECTORS.items()}
    organisations = {
        key: _upsert(
            Organisation, {"name": spec.name, "country": spec.country}, {"kind": spec.kind, "website": spec.website}
        )
        for key, spec in ORGANISATIONS.items()
    }
    recruiters = {
        key: _upsert(
            Recruiter,
            {"organisation": organisations[key]},
            {
                "licence_number": spec.licence_number,
                "licence_country": ORGANISATIONS[key].country,
                "licence_expires_on": spec.licence_expires_on,
                "certifications": list(spec.certifications),
                "zero_fee_pledge": spec.pledge_signed_on is not None,
                "zero_fee_pledge_signed_on": spec.pledge_signed_on,
            },
        )
        for key, spec in RECRUITERS.items()
    }
    users = {spec.username: _ensure_user(spec, organisations, password) for spec in USERS}
    world = World(organisations, recruiters, {}, {}, {}, users)
    for spec in PILOTS:
        _ensure_pilot(world, spec, sectors[spec.sector], sizes[spec.slug])
    return world


def _ensure_user(spec: UserSpec, organisations: dict[str, Organisation], password: str) -> User:
    """A demo login. Its password is made the given one on every run, so the one printed always works;
    it is only hashed again when it differs, since each hash takes a good part of a second."""
    values = {
        "first_name": spec.first_name,
        "last_name": spec.last_name,
        "email": spec.email,
        "role": spec.role,
        "organisation": organisations[spec.organisation] if spec.organisation else None,
        "is_staff": spec.admin,
        "is_superuser": spec.admin,
        "is_active": True,
    }
    if not User.objects.filter(username=spec.username).exists():
        return User.objects.create_user(spec.username, password=password, **values)
    user = _upsert(User, {"username": spec.username}, values)
    if not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def _ensure_pilot(world: World, spec: PilotSpec, sector: Sector, size: int) -> None:
    orgs = world.organisations
    pilot = _upsert(
        Pilot,
        {"slug": spec.slug},
        {
            "name": spec.name,
            "sector": sector,
            "origin_countries": list(spec.origin_countries),
            "destination_country": spec.destination,
            "pathway": spec.pathway,
            "status": spec.status,
            "start_date": spec.start,
            "end_date": spec.end,
            "target_cohort_size": max(1, math.ceil(size * 1.1)),
            "required_stages": spec.required_stages,
            "description": spec.description,
        },
    )
    world.pilots[spec.slug] = pilot
    partners = [*spec.partners]
    partners += [(s.recruiter, PartnerRole.RECRUITER, s.assigned_on) for s in spec.sourcing]
    partners += [(o.employer, PartnerRole.EMPLOYER, spec.start) for o in spec.openings]
    partners += [(c.provider, PartnerRole.TRAINING_PROVIDER, spec.start) for c in spec.courses]
    for key, role, joined_on in dict.fromkeys(partners):
        _upsert(PilotPartner, {"pilot": pilot, "organisation": orgs[key], "role": role}, {"joined_on": joined_on})
    quotas = {}
    for sourcing in spec.sourcing:
        quotas[sourcing.recruiter] = max(1, math.ceil(size * sourcing.share * 1.15))
        _upsert(
            RecruiterAssignment,
            {"recruiter": world.recruiters[sourcing.recruiter], "pilot": pilot},
            {"quota": quotas[sourcing.recruiter], "assigned_on": sourcing.assigned_on},
        )
    world.openings[spec.slug] = [
        _upsert(
            JobOpening,
            {"pilot": pilot, "employer": orgs[o.employer], "title": o.title, "season_start": o.season_start},
            {
                "positions": max(1, math.ceil(size * o.share)),
                "wage_amount": Decimal(o.wage),
                "wage_currency": o.currency,
                "wage_period": o.period,
                "hours_per_week": Decimal(o.hours),
                "location": o.location,
                "location_country": o.country,
                "season_end": o.season_end,
            },
        )
        for o in spec.openings
    ]
    _ensure_contract(world, spec, pilot, size)


def _ensure_contract(world: World, spec: PilotSpec, pilot: Pilot, size: int) -> None:
    terms = spec.contract
    contract = _upsert(
        RbfContract,
        {"reference": terms.reference},
        {
            "name": terms.name,
            "pilot": pilot,
            "payer": world.organisations[terms.payer],
            "provider": world.organisations[terms.provider],
            "currency": terms.currency,
            "start_date": terms.start,
            "end_date": terms.end,
            "cap_total": Decimal(terms.cap_per_worker * max(1, size)),
            "tranche_period": TranchePeriod.QUARTERLY,
            "status": ContractStatus.ACTIVE,
            "signed_on": terms.signed_on,
        },
    )
    provider_share = sum(s.share for s in spec.sourcing if s.recruiter == terms.provider)
    provider_workers = size * provider_share
    placed = None
    for position, metric in enumerate(terms.metrics):
        tiers = None
        if metric.tiers:
            tiers = [
                {"units": None if share is None else max(1, round(provider_workers * share)), "price": price}
                for share, price in metric.tiers
            ]
        row = _upsert(
            OutcomeMetric,
            {"contract": contract, "code": metric.code},
            {
                "name": metric.name,
                "kind": metric.kind,
                "retention_days": metric.retention_days,
                "price": Decimal(metric.price) if metric.price else None,
                "tiers": tiers,
                "max_units_per_worker": metric.max_units_per_worker,
                "threshold_rate": Decimal(metric.threshold_rate) if metric.threshold_rate else None,
                "denominator_metric": placed if metric.threshold_rate else None,
                "position": position,
            },
        )
        if metric.kind == MetricKind.PLACED:
            placed = row
        world.metrics[(spec.slug, metric.code)] = row


def _write(plans: list[WorkerPlan], world: World) -> None:
    """Write a chunk of planned workers and all that hangs on them, one ``bulk_create`` per table.

    Relations are set by id (``worker_id=…``), not by instance: at 100,000 workers, the related-object
    bookkeeping of a million model instances is a good part of the run.
    """
    staff_id = world.users["staff"].pk
    login_recruiter_id = world.users["recruiter"].pk

    login_employer_id = world.users["employer"].pk
    organisation_ids = {key: org.pk for key, org in world.organisations.items()}

    def entered_by(plan: WorkerPlan) -> int | None:
        # The demo has a login for one recruiter; the others' records came in through their API tokens.
        return login_recruiter_id if plan.recruiter == LOGIN_RECRUITER else None

    def supplied(plan: WorkerPlan, e: EvidencePlan) -> dict[str, Any]:
        """Who uploaded a document and so who supplied it: the recruiter, the employer, the worker's own link,
        or the training provider (their systems' API tokens, but for the demo's logins)."""
        if e.by == "worker":
            return {"uploaded_by_id": None, "source": Source.WORKER, "source_organisation_id": None}
        if e.by == "employer":
            user = login_employer_id if e.org == LOGIN_EMPLOYER else None
            organisation = organisation_ids[e.org]
            return {"uploaded_by_id": user, "source": Source.EMPLOYER, "source_organisation_id": organisation}
        if e.by == "provider":
            return {
                "uploaded_by_id": None,
                "source": Source.TRAINING_PROVIDER,
                "source_organisation_id": organisation_ids[e.org],
            }
        recruiter = world.recruiters[plan.recruiter].organisation_id
        return {"uploaded_by_id": entered_by(plan), "source": Source.RECRUITER, "source_organisation_id": recruiter}

    workers = []
    for plan in plans:
        worker = Worker(
            given_names=plan.given_names,
            family_names=plan.family_names,
            date_of_birth=plan.date_of_birth,
            gender=plan.gender,
            nationality=plan.nationality,
            phone=plan.phone,
            email=plan.email,
            language_levels=plan.languages,
            consent_given_at=plan.consent_at,
            recruiter_id=world.recruiters[plan.recruiter].pk,
            pilot_id=world.pilots[plan.pilot.slug].pk,
            season=plan.events[-1][0],
            current_stage=plan.events[-1][1],
            stage_changed_on=plan.events[-1][2],
        )
        worker.set_identity_document(number=plan.document, country=plan.nationality, kind=IdentityDocumentType.PASSPORT)
        workers.append(worker)
    Worker.objects.bulk_create(workers, batch_size=CHUNK)

    evidence: list[list[Evidence]] = [
        [
            Evidence(
                worker_id=worker.pk,
                kind=e.kind,
                reference=e.reference,
                description=e.description,
                facts=e.facts,
                uploaded_at=_at(e.on),
                **supplied(plan, e),
            )
            for e in plan.evidence
        ]
        for worker, plan in zip(workers, plans, strict=True)
    ]
    Evidence.objects.bulk_create([row for rows in evidence for row in rows], batch_size=CHUNK)

    events, employments, trainings, fees, claims, checks = [], [], [], [], [], []
    declarations: list[FeeDeclaration] = []
    for worker, plan, documents in zip(workers, plans, evidence, strict=True):
        worker_recruiter = world.recruiters[plan.recruiter].organisation_id
        supports = {(e.season, e.stage): documents[i].pk for i, e in enumerate(plan.evidence) if e.stage}
        events += [
            JourneyEvent(
                worker_id=worker.pk,
                pilot_id=worker.pilot_id,
                season=season,
                stage=stage,
                occurred_on=on,
                recorded_at=_at(on),
                recorded_by_id=entered_by(plan),
                evidence_id=supports.get((season, stage)),
            )
            for season, stage, on in plan.events
        ]
        openings = world.openings[plan.pilot.slug]
        employments += [
            Employment(
                worker_id=worker.pk,
                job_opening_id=openings[job.opening].pk,
                start_date=job.start,
                end_date=job.end,
                separation_reason=job.reason,
                # Recorded by the employer, through its own channel.
                source=Source.EMPLOYER,
                source_organisation_id=openings[job.opening].employer_id,
                recorded_by_id=login_employer_id
                if openings[job.opening].employer_id == organisation_ids[LOGIN_EMPLOYER]
                else None,
            )
            for job in plan.employments
        ]
        trainings += [
            TrainingEnrollment(
                worker_id=worker.pk,
                provider_id=world.organisations[plan.pilot.courses[t.course].provider].pk,
                course=plan.pilot.courses[t.course].course,
                enrolled_on=t.enrolled_on,
                completed_on=t.completed_on,
                passed=t.passed,
                level_achieved=t.level,
                certificate_id=documents[t.certificate].pk if t.certificate is not None else None,
                # The provider's assessment: it counts for an outcome unless the provider is the one paid.
                result_source=Source.TRAINING_PROVIDER if t.passed is not None else Source.UNRECORDED,
                result_organisation_id=world.organisations[plan.pilot.courses[t.course].provider].pk
                if t.passed is not None
                else None,
            )
            for t in plan.trainings
        ]
        fees += [
            FeeReport(
                worker_id=worker.pk,
                recruiter_id=worker.recruiter_id,
                category=fee.kind.category,
                amount=fee.amount,
                currency=fee.currency,
                paid_to=fee.kind.paid_to,
                paid_on=fee.paid_on,
                recovered_by_wage_deduction=fee.deducted,
                source=fee.source,
                reported_by_id={FeeSource.STAFF: staff_id, FeeSource.RECRUITER: entered_by(plan)}.get(fee.source),
                reported_at=_at(fee.paid_on + datetime.timedelta(days=7)),
                source_organisation_id=worker_recruiter if fee.source == FeeSource.RECRUITER else None,
            )
            for fee in plan.fees
        ]
        if not plan.fees and any(claim.metric == "ZERO_FEE" for claim in plan.claims):
            # The recruiter's own word that it charged nothing: one of the three voices of a zero-fee outcome.
            declarations.append(
                FeeDeclaration(
                    worker_id=worker.pk,
                    recruiter_id=worker.recruiter_id,
                    declared_by_id=entered_by(plan),
                    declared_at=_at(plan.events[0][2]),
                )
            )
        for claim in plan.claims:
            row = OutcomeClaim(
                metric_id=world.metrics[(plan.pilot.slug, claim.metric)].pk,
                worker_id=worker.pk,
                unit=claim.unit,
                achieved_on=claim.achieved_on,
                status=claim.status,
                verified_on=claim.verified_on,
                claimed_by_id=entered_by(plan),
                claimed_at=_at(claim.achieved_on + datetime.timedelta(days=2)),
                rejection_reason=claim.rejection_reason,
                # Waiting for staff, with the facts for and against in its needs_review verification.
                in_review=claim.decision == Decision.NEEDS_REVIEW,
            )
            claims.append(row)
            if claim.decision:
                facts = dict(claim.facts)
                if claim.evidence is not None:
                    facts["evidence_id"] = documents[claim.evidence].pk
                checks.append(
                    Verification(
                        claim=row,  # saved just below: bulk_create then takes its new id
                        decision=claim.decision,
                        method=claim.method,
                        rule=claim.rule,
                        reason=claim.reason,
                        facts=facts,
                        decided_by_id=staff_id if claim.method == VerificationMethod.STAFF else None,
                        decided_at=_at(claim.verified_on or claim.achieved_on + datetime.timedelta(days=14)),
                    )
                )
    JourneyEvent.objects.bulk_create(events, batch_size=CHUNK)
    Employment.objects.bulk_create(employments, batch_size=CHUNK)
    TrainingEnrollment.objects.bulk_create(trainings, batch_size=CHUNK)
    FeeReport.objects.bulk_create(fees, batch_size=CHUNK)
    FeeDeclaration.objects.bulk_create(declarations, batch_size=CHUNK)
    OutcomeClaim.objects.bulk_create(claims, batch_size=CHUNK)
    Verification.objects.bulk_create(checks, batch_size=CHUNK)


def _plans(rng: random.Random, sizes: dict[str, int]) -> Iterable[WorkerPlan]:
    # Serials step through every number below 10**7 in a scrambled order (7919 is coprime with 10), so
    # passport numbers look random yet never repeat.
    offset = rng.randrange(MAX_WORKERS)
    index = 0
    for spec in PILOTS:
        for _ in range(sizes[spec.slug]):
            yield _plan_worker(rng, spec=spec, serial=(offset + index * 7919) % MAX_WORKERS)
            index += 1


def demo_recruiter_workers() -> models.QuerySet[Worker]:
    """Workers sourced by the demo's recruiters: their existence means the demo's workers were written."""
    demo = Q()
    for key in RECRUITERS:
        demo |= Q(
            recruiter__organisation__name=ORGANISATIONS[key].name,
            recruiter__organisation__country=ORGANISATIONS[key].country,
        )
    return Worker.objects.filter(demo)


# --- The entry point -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PilotSummary:
    name: str
    workers: int
    deployed: int
    exited: int
    returning: int
    claims: dict[str, int]


@dataclass(frozen=True)
class DemoResult:
    workers: int
    created: bool
    pilots: list[PilotSummary]
    logins: list[tuple[str, str, str]]
    password: str
    #: The path of an open check-in link for one demo worker (``/c/<secret>/``), and whose it is.
    check_in: tuple[str, str] | None = None


def seed_demo(
    *,
    workers: int = DEFAULT_WORKERS,
    seed: int = DEFAULT_SEED,
    password: str = DEFAULT_PASSWORD,
    progress: Callable[[int, int], None] | None = None,
) -> DemoResult:
    """Create the demo world, or bring its reference data up to date when the demo's workers already exist.

    One transaction: a failed run leaves nothing half-written. History is attributed to the system. When
    the workers exist, their number (not ``workers``) sizes quotas, openings and tiers, so a second run
    changes nothing.
    """
    if not 0 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers must be between 0 and {MAX_WORKERS:,}, not {workers:,}")
    if not password:
        raise ValueError("the demo password must not be empty")
    with transaction.atomic(), acting_as(None):
        existing = demo_recruiter_workers().count()
        total = existing or workers
        sizes = _pilot_sizes(total)
        world = _ensure_world(sizes, password)
        if not existing:
            plans = _plans(random.Random(seed), sizes)
            done = 0
            while chunk := list(itertools.islice(plans, CHUNK)):
                _write(chunk, world)
                done += len(chunk)
                if progress:
                    progress(done, total)
            _answer_check_ins()
        # The contracts' payment schedules, as the recompute job would build them; unchanged on a re-run.
        for contract_id in RbfContract.objects.filter(
            reference__in=[spec.contract.reference for spec in PILOTS]
        ).values_list("pk", flat=True):
            schedule_recompute(contract_id=contract_id)
        check_in = _demo_check_in()
        return DemoResult(
            check_in=check_in,
            workers=total,
            created=not existing,
            pilots=[_summarise(world.pilots[spec.slug]) for spec in PILOTS],
            logins=[
                (u.username, u.get_role_display(), u.organisation.name if u.organisation else "")
                for u in world.users.values()
            ],
            password=password,
        )


#: Check-ins the demo's workers answered, through the services a worker's link calls: in Spanish and
#: English, most saying no fee, two reporting one (findings, and a zero-fee claim sent to review).
DEMO_ANSWERS: tuple[tuple[str, dict[str, str]], ...] = (
    ("es", {"fee_paid": "no", "still_working": "yes", "passport_own": "yes", "hours_per_week": "48"}),
    ("es", {"fee_paid": "no", "still_working": "yes", "passport_own": "yes", "wage_received": "16.55"}),
    ("en", {"fee_paid": "no", "still_working": "yes", "passport_own": "yes"}),
    ("en", {"fee_paid": "no", "still_working": "yes", "passport_own": "no", "deductions": "Housing, 79 a week"}),
    (
        "es",
        {
            "fee_paid": "yes",
            "fee_category": FeeCategory.MEDICAL,
            "fee_amount": "950.00",
            "fee_currency": "GTQ",
            "fee_paid_to": "Clínica privada en Huehuetenango",
            "still_working": "yes",
            "passport_own": "yes",
        },
    ),
    (
        "en",
        {
            "fee_paid": "yes",
            "fee_category": FeeCategory.TRAVEL_LODGING,
            "fee_amount": "120.00",
            "fee_currency": "USD",
            "still_working": "yes",
            "passport_own": "yes",
        },
    ),
)


def _answer_check_ins() -> None:
    """Day-30 check-ins of the demo recruiter's working workers, answered as :data:`DEMO_ANSWERS`: the fees are
    reported by a worker whose zero-fee claim was verified (a finding that reverses it) and by one whose claim
    still waits (a contradiction with the recruiter's declaration, for staff in the review queue)."""
    working = (
        demo_recruiter_workers()
        .filter(recruiter__organisation__name=ORGANISATIONS[LOGIN_RECRUITER].name, current_stage=Stage.WORKING)
        .order_by("pk")
    )
    first = working.first()  # keeps an open link (_demo_check_in)
    if first is None:
        return
    zero_fee = OutcomeClaim.objects.filter(metric__kind=MetricKind.ZERO_FEE)
    verified = working.filter(Exists(zero_fee.filter(worker=OuterRef("pk"), status=ClaimStatus.VERIFIED))).exclude(
        pk=first.pk
    )
    waiting = working.filter(
        Exists(zero_fee.filter(worker=OuterRef("pk"), status=ClaimStatus.CLAIMED, in_review=False))
    ).exclude(pk=first.pk)
    with_fee = [w for w in (verified.first(), waiting.first()) if w is not None]
    without = list(working.exclude(pk__in=[first.pk, *(w.pk for w in with_fee)])[:4])
    fee_answers = [(language, answers) for language, answers in DEMO_ANSWERS if answers["fee_paid"] == "yes"]
    no_fee_answers = [(language, answers) for language, answers in DEMO_ANSWERS if answers["fee_paid"] == "no"]
    pairs = [*zip(without, no_fee_answers, strict=False), *zip(with_fee, fee_answers, strict=False)]
    for worker, (language, answers) in pairs:
        check_in, _secret = check_in_create(worker=worker, moment=CheckInMoment.DAY_30, created_by=None)
        check_in_language(check_in=check_in, language=language)
        check_in_answer(check_in=check_in, answers=answers)


def _demo_check_in() -> tuple[str, str] | None:
    """An open check-in link for one worker of the demo's recruiter, to try the worker's page.

    Its secret is derived from ``SECRET_KEY``, so every run prints the same link while it stays open; once it
    is answered or expires, the next run makes the next one. Only its hash is stored, as for any check-in.
    """
    worker = (
        demo_recruiter_workers()
        .filter(recruiter__organisation__name=ORGANISATIONS[LOGIN_RECRUITER].name, current_stage=Stage.WORKING)
        .order_by("pk")
        .first()
    )
    if worker is None:
        return None
    now = timezone.now()
    for number in itertools.count():
        digest = hmac.new(settings.SECRET_KEY.encode(), f"demo check-in {number}".encode(), hashlib.sha256)
        secret = base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")
        found = CheckIn.objects.filter(token_hash=check_in_secret_hash(secret)).first()
        if found is None:
            CheckIn.objects.create(
                worker=worker,
                moment=CheckInMoment.DAY_90,
                token_hash=check_in_secret_hash(secret),
                language=home_language(worker),
                created_at=now,
                expires_at=now + datetime.timedelta(days=CHECK_IN_DAYS),
            )
        elif found.answered_at is not None or found.expires_at <= now:
            continue
        return f"/c/{secret}/", f"{worker.given_names} {worker.family_names}"
    return None


def _summarise(pilot: Pilot) -> PilotSummary:
    on_the_job = [Stage.DEPLOYED, Stage.WORKING, Stage.COMPLETED, Stage.RETURNED]
    counts = pilot.workers.aggregate(
        workers=Count("id"),
        deployed=Count("id", filter=Q(current_stage__in=on_the_job)),
        exited=Count("id", filter=Q(current_stage__in=EXITS)),
        returning=Count("id", filter=Q(season__gt=1)),
    )
    claims = dict(
        OutcomeClaim.objects.filter(metric__contract__pilot=pilot)
        .order_by()
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return PilotSummary(name=pilot.name, claims=claims, **counts)
