from django.apps import AppConfig


class ProgrammeConfig(AppConfig):
    """The top layer: pages, API answers and the demo world that combine every app below it."""

    name = "programme"
    verbose_name = "Programme"
