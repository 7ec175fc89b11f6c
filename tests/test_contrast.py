"""The stylesheet's colours meet WCAG 2.1 AA where the issue asked: the focus ring (3:1 against what is behind
it), the header's text and muted text, and disabled buttons (4.5:1 for text).

The colours are read from the ``:root`` variables of ``lamp/static/lamp/app.css``, and the rules are checked to
use those variables, so a colour changed in either place is measured again here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parent.parent / "lamp" / "static" / "lamp" / "app.css"
TEXT = 4.5  # WCAG 1.4.3, normal text
FOCUS = 3.0  # WCAG 1.4.11 / 2.4.13, a focus indicator against the colours next to it


def _css() -> str:
    return CSS.read_text(encoding="utf-8")


def _variables() -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\}", re.sub(r"/\*.*?\*/", "", _css(), flags=re.S), re.S)
    assert root, "app.css has no :root block"
    return {name: value.strip().lower() for name, value in re.findall(r"--([\w-]+)\s*:\s*([^;]+);", root.group(1))}


def _rule(selector: str) -> str:
    """The declarations of the rule whose selector list is exactly ``selector``."""
    css = re.sub(r"/\*.*?\*/", "", _css(), flags=re.S)
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        if selectors.strip() == selector:
            return body
    raise AssertionError(f"app.css has no rule {selector!r}")


def _rgb(colour: str) -> tuple[float, float, float]:
    colour = colour.lstrip("#")
    if len(colour) == 3:
        colour = "".join(c * 2 for c in colour)
    assert re.fullmatch(r"[0-9a-f]{6}", colour), f"not a hex colour: {colour!r}"
    return tuple(int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def _luminance(colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG's contrast ratio of two colours, from 1 to 21."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula_matches_wcag():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic just-failing grey
    assert contrast("#7cb8dd", "#ffffff") < FOCUS  # the old focus ring, which this work replaced


@pytest.mark.parametrize(
    ("foreground", "background", "minimum"),
    [
        # The focus ring on every light surface a focusable element sits on.
        ("focus", "card", FOCUS),
        ("focus", "bg", FOCUS),
        ("focus", "brand-soft", FOCUS),
        ("focus", "warn-soft", FOCUS),
        ("focus", "bad-soft", FOCUS),
        ("focus", "good-soft", FOCUS),
        # ... and in the dark header.
        ("focus-on-dark", "topbar", FOCUS),
        # The header's text: links, the language switch, the user's role and organisation (muted).
        ("topbar-ink", "topbar", TEXT),
        ("topbar-muted", "topbar", TEXT),
        # Disabled buttons, and muted text on the page and on cards.
        ("disabled-ink", "disabled-bg", TEXT),
        ("muted", "bg", TEXT),
        ("muted", "card", TEXT),
    ],
)
def test_colour_pairs_meet_wcag_aa(foreground, background, minimum):
    colours = _variables()
    ratio = contrast(colours[foreground], colours[background])
    assert ratio >= minimum, f"--{foreground} on --{background}: {ratio:.2f}:1, needs {minimum}:1"


def test_rules_use_the_measured_colours():
    """The ring, the header and disabled buttons take their colours from the variables measured above, and a
    disabled button is not faded with opacity (which would undo the measured contrast)."""
    assert re.search(r"outline:\s*3px solid var\(--focus\)", _rule(":focus-visible"))
    assert "var(--focus-on-dark)" in _rule(".topbar :focus-visible")
    assert "var(--topbar)" in _rule(".topbar")
    assert "var(--topbar-ink)" in _rule(".topbar a")
    assert "var(--topbar-muted)" in _rule(".who-role")
    disabled = _rule(".btn[disabled], .btn:disabled")
    assert "var(--disabled-ink)" in disabled
    assert "var(--disabled-bg)" in disabled
    assert "opacity" not in disabled


def test_the_header_hover_keeps_its_contrast():
    """A hovered header link lies on white at 10 % over the header: still 4.5:1."""
    colours = _variables()
    top, white = _rgb(colours["topbar"]), (1.0, 1.0, 1.0)
    hovered = "#" + "".join(f"{round((0.1 * w + 0.9 * t) * 255):02x}" for w, t in zip(white, top, strict=True))
    assert re.search(r"rgba\(255,\s*255,\s*255,\s*\.1\)", _rule(".nav a:hover"))
    assert contrast(colours["topbar-ink"], hovered) >= TEXT
