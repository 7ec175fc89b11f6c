"""Pieces shared by the admins of every app: choice lists stored in arrays, read-only inlines, rows made by services."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from lamp.history import Timeline, page_number

#: Up to this many choices are shown as checkboxes; longer lists (countries) get the admin's two-box filter.
MAX_CHECKBOXES = 20


class ChoiceArrayMixin:
    """Edit an ``ArrayField`` whose items have choices as a list of options rather than comma-separated text."""

    def formfield_for_dbfield(self, db_field: models.Field, request: HttpRequest, **kwargs: Any) -> forms.Field | None:
        if isinstance(db_field, ArrayField) and db_field.base_field.choices:
            choices = list(db_field.base_field.choices)
            label = capfirst(db_field.verbose_name)
            widget = (
                forms.CheckboxSelectMultiple
                if len(choices) <= MAX_CHECKBOXES
                else FilteredSelectMultiple(label, is_stacked=False)
            )
            return forms.MultipleChoiceField(
                choices=choices,
                required=not db_field.blank,
                widget=widget,
                label=label,
                help_text=kwargs.get("help_text", db_field.help_text),
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class CurrentUserInitialMixin:
    """Propose the signed-in user for the "who recorded this" fields of a new row (``initial_user_fields``)."""

    initial_user_fields: tuple[str, ...] = ()

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        for name in self.initial_user_fields:
            initial.setdefault(name, request.user.pk)
        return initial


class ReadOnlyTabularInline(admin.TabularInline):
    """Rows shown on their parent's page that are written elsewhere (a service, another admin): view only."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None) -> Sequence[str]:
        # Every column is shown, none is a form field: columns may also be display methods of the inline.
        return self.fields or ()


def adopt_saved(obj: models.Model, saved: models.Model) -> None:
    """Turn the admin's unsaved ``obj`` into the row a service just created.

    The admin goes on to log, save inlines and redirect using ``obj``; a service builds its own instance.
    """
    obj.pk = saved.pk
    obj.refresh_from_db()
    obj._state.adding = False


class TimelineHistoryMixin:
    """The admin's History button shows the object's history in words, the timeline the dashboard shows.

    The history is kept by the database triggers (``lamp.history``), so it holds every change, made here,
    in the dashboard, through the API or by a job; Django's own log holds only the admin's. A subclass says
    which timeline is the object's (``timeline_of``); pghistory's "Events" button keeps the raw rows.
    """

    def timeline_of(self, obj: Any, *, viewer: Any, page: int) -> Timeline:
        raise NotImplementedError

    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None) -> HttpResponse:
        model = self.model
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, model._meta, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("History: %(object)s") % {"object": obj},
            "subtitle": None,
            "module_name": str(capfirst(model._meta.verbose_name_plural)),
            "object": obj,
            "opts": model._meta,
            "timeline": self.timeline_of(obj, viewer=request.user, page=page_number(request.GET.get("history"))),
            "timeline_title": _("Changes"),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/timeline_history.html", context)
