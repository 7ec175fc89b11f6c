"""Template filters for the journey's stages: ``{% load stages %}``, then ``|stage_label`` or ``{% stage_badge %}``."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from pilots.stages import EXITS, Stage

register = template.Library()


@register.filter
def stage_label(value: str) -> str:
    """A stage's human name: ``visa_pending`` -> ``Visa pending``."""
    try:
        return Stage(value).label
    except ValueError:
        return value


@register.simple_tag
def stage_badge(value: str) -> str:
    """A coloured badge for a stage; exits are marked as such."""
    css = "badge badge-exit" if value in EXITS else f"badge badge-{value}"
    return format_html('<span class="{}">{}</span>', css, stage_label(value))
