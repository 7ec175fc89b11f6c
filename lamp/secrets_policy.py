"""What production refuses: weak secrets, a wildcard or empty ``ALLOWED_HOSTS``, and ``DEBUG``.

One set of rules, used twice: ``lamp/settings.py`` calls :func:`require_strong_production_settings` so a
production process refuses to start (``ImproperlyConfigured`` naming each variable and what is wrong with
it), and :func:`check_production_settings` reports the same findings to ``manage.py check --deploy`` in any
mode (ids ``lamp.E001`` to ``lamp.E006``).

A secret must be long enough and look random. Its entropy is estimated as its length times ``log2`` of the
character classes it draws from (26 lower-case letters, 26 upper-case, 10 digits, 33 others), at least
128 bits; on top of that, a value is refused when a few characters make up most of it (under 2.5 bits of
Shannon entropy per character: ``xxxxxxxx…``, ``abcabc…``), when most of its characters repeat or step by one
from the previous one (``abcdefgh…``, ``12345678…``), or when it holds a known placeholder (Django's
``django-insecure-`` prefix, ``changeme``, ``example``…). Properly generated values never trip these rules:
``secrets.token_urlsafe(48)``, ``secrets.token_hex(32)`` and ``openssl rand -base64 32`` are far above them.

The minimum lengths:

- ``SECRET_KEY``: 50 characters, the length Django's own deploy check (``security.W009``) asks for.
- ``IDENTITY_HASH_KEY``: 32 characters, the output length of the HMAC-SHA-256 it keys; RFC 2104 discourages
  keys shorter than that. A short key is what makes 9-digit document numbers guessable from their hashes.
- ``FIELD_ENCRYPTION_SALT``: 24 characters. It salts the PBKDF2 derivation of the encryption keys from
  ``SECRET_KEY``; NIST SP 800-132 asks for at least 128 random bits of salt, and 24 characters is the shortest
  common text form of 128 random bits (base64 of 16 bytes) that also clears the 128-bit estimate above.

No settings are read at import: lamp/settings.py imports this module while it is being loaded.
"""

from __future__ import annotations

import math
import string
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

MINIMUM_BITS = 128
MINIMUM_BITS_PER_CHARACTER = 2.5
# Refused when more than this share of successive characters repeat or step by one (a, b, c…).
MAXIMUM_SEQUENTIAL_SHARE = 0.75
# Case-insensitive. Placeholders and the example values people copy: Django's startproject prefix, the
# words of "change me" and "example" values, the former image build's throwaway value.
PLACEHOLDERS = (
    "django-insecure",
    "insecure",
    "changeme",
    "change-me",
    "change_me",
    "change this",
    "placeholder",
    "example",
    "collectstatic",
    "dummy",
    "secret",
    "password",
    "replace",
)
GENERATE_HINT = 'Generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'


@dataclass(frozen=True)
class SecretRule:
    variable: str
    min_length: int
    check_id: str


SECRET_KEY_RULE = SecretRule("SECRET_KEY", 50, "lamp.E001")
SALT_RULE = SecretRule("FIELD_ENCRYPTION_SALT", 24, "lamp.E002")
IDENTITY_HASH_KEY_RULE = SecretRule("IDENTITY_HASH_KEY", 32, "lamp.E003")
ALLOWED_HOSTS_CHECK_ID = "lamp.E004"
DEBUG_CHECK_ID = "lamp.E005"
DISTINCT_KEYS_CHECK_ID = "lamp.E006"


@dataclass(frozen=True)
class Problem:
    """One weak setting: the variable, what is wrong with it, and how to fix it."""

    check_id: str
    variable: str
    message: str
    hint: str


def _class_sizes(value: str) -> int:
    pool = 0
    if any(c in string.ascii_lowercase for c in value):
        pool += 26
    if any(c in string.ascii_uppercase for c in value):
        pool += 26
    if any(c in string.digits for c in value):
        pool += 10
    if any(c not in string.ascii_letters + string.digits for c in value):
        pool += 33
    return pool


def estimated_bits(value: str) -> float:
    """The value's length times log2 of the size of the character classes it uses."""
    pool = _class_sizes(value)
    return len(value) * math.log2(pool) if pool > 1 else 0.0


def shannon_bits_per_character(value: str) -> float:
    """Shannon entropy of the value's own character frequencies, in bits per character."""
    if not value:
        return 0.0
    counts = Counter(value)
    n = len(value)
    return -sum(count / n * math.log2(count / n) for count in counts.values())


def sequential_share(value: str) -> float:
    """The share of successive characters that repeat the previous one or step by one from it."""
    if len(value) < 2:
        return 1.0
    steps = [abs(ord(after) - ord(before)) <= 1 for before, after in zip(value, value[1:], strict=False)]
    return sum(steps) / len(steps)


def secret_weakness(value: str, *, min_length: int) -> str | None:
    """Why ``value`` is too weak to be a production secret, or None when it is strong enough."""
    if len(value) < min_length:
        plural = "character" if len(value) == 1 else "characters"
        return f"is {len(value)} {plural} long; at least {min_length} are needed"
    lowered = value.lower()
    for placeholder in PLACEHOLDERS:
        if placeholder in lowered:
            return f"contains the placeholder {placeholder!r}: it is an example value, not a secret"
    if shannon_bits_per_character(value) < MINIMUM_BITS_PER_CHARACTER:
        return "repeats a few characters over and over; it must be random"
    if sequential_share(value) > MAXIMUM_SEQUENTIAL_SHARE:
        return "is mostly repeated or consecutive characters (like 'aaaa' or 'abcd'); it must be random"
    bits = estimated_bits(value)
    if bits < MINIMUM_BITS:
        return (
            f"has about {bits:.0f} bits of entropy; at least {MINIMUM_BITS} are needed "
            "(a longer value, or one mixing letters of both cases, digits and symbols)"
        )
    return None


def allowed_hosts_weakness(hosts: Iterable[str]) -> str | None:
    """Why ``hosts`` let the site answer to any host name, or None."""
    named = [host.strip() for host in hosts if host.strip()]
    if not named:
        return "is empty; name the host names the site answers to (comma-separated)"
    if any("*" in host for host in named):
        return "contains '*', which accepts any Host header; name the host names the site answers to"
    return None


def production_problems(
    *,
    secret_key: str,
    salt: str | Sequence[str],
    identity_hash_key: str,
    allowed_hosts: Iterable[str],
    debug: bool,
) -> list[Problem]:
    """Every weak setting among those given, in the order of the README's table."""
    problems = []
    current_salt = salt[0] if isinstance(salt, list | tuple) and salt else salt
    values = ((SECRET_KEY_RULE, secret_key), (SALT_RULE, current_salt), (IDENTITY_HASH_KEY_RULE, identity_hash_key))
    strong = set()
    for rule, value in values:
        reason = secret_weakness(str(value or ""), min_length=rule.min_length)
        if reason:
            problems.append(Problem(rule.check_id, rule.variable, f"{rule.variable} {reason}.", GENERATE_HINT))
        else:
            strong.add(rule.variable)
    # A strong value used twice: knowing SECRET_KEY would then also give the salt or the HMAC key.
    for rule, value in values[1:]:
        if rule.variable in strong and value == secret_key:
            problems.append(
                Problem(
                    DISTINCT_KEYS_CHECK_ID,
                    rule.variable,
                    f"{rule.variable} is the same value as SECRET_KEY; each secret must be generated on its own.",
                    GENERATE_HINT,
                )
            )
    reason = allowed_hosts_weakness(allowed_hosts)
    if reason:
        problems.append(
            Problem(
                ALLOWED_HOSTS_CHECK_ID,
                "ALLOWED_HOSTS",
                f"ALLOWED_HOSTS {reason}.",
                "For example ALLOWED_HOSTS=lamp.example.org (a leading dot, .example.org, allows its subdomains).",
            )
        )
    if debug:
        problems.append(
            Problem(
                DEBUG_CHECK_ID,
                "DEBUG",
                "DEBUG is on: its error pages show settings, code and data to anyone.",
                "Unset DEBUG (or set DEBUG=false) in production.",
            )
        )
    return problems


def require_strong_production_settings(
    *,
    secret_key: str,
    salt: str | Sequence[str],
    identity_hash_key: str,
    allowed_hosts: Iterable[str],
    debug: bool,
) -> None:
    """Raise ImproperlyConfigured listing every weak setting (called by lamp/settings.py in production)."""
    problems = production_problems(
        secret_key=secret_key, salt=salt, identity_hash_key=identity_hash_key, allowed_hosts=allowed_hosts, debug=debug
    )
    if problems:
        lines = "\n".join(f"- {problem.message} {problem.hint}" for problem in problems)
        raise ImproperlyConfigured(f"LAMP_ENV=production refuses these settings:\n{lines}")


@checks.register(checks.Tags.security, deploy=True)
def check_production_settings(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """``manage.py check --deploy``: the production rules, whatever the mode."""
    problems = production_problems(
        secret_key=settings.SECRET_KEY,
        salt=settings.SALT_KEY,
        identity_hash_key=settings.IDENTITY_HASH_KEY,
        allowed_hosts=settings.ALLOWED_HOSTS,
        debug=settings.DEBUG,
    )
    return [checks.Error(problem.message, hint=problem.hint, id=problem.check_id) for problem in problems]
