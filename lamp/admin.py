"""Admin for the REST API's own records: tokens (issued and revoked here) and the stored retry answers."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from lamp.models import ApiToken, IdempotencyRecord
from lamp.tokens import SECRET_PREFIX, api_token_create, api_token_revoke


class ApiTokenAddForm(forms.ModelForm):
    expires_in_days = forms.IntegerField(
        min_value=1, required=False, help_text="Days until the token stops working; empty for no expiry."
    )

    class Meta:
        model = ApiToken
        fields = ("user", "name")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued here through ``api_token_create``, whose secret is shown once, in the message on the
    page after saving; only its hash is stored, and no page shows that either. Revoke instead of deleting:
    a revoked token keeps its record of who used the API until when."""

    list_display = ("token_prefix", "name", "user", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), ("expires_at", admin.EmptyFieldListFilter))
    list_select_related = ("user",)
    search_fields = ("prefix", "name", "user__username", "user__email")
    ordering = ("-created_at", "-id")
    autocomplete_fields = ("user",)
    actions = ("revoke",)

    def get_form(self, request: HttpRequest, obj: ApiToken | None = None, **kwargs: Any) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("user", "name", "expires_in_days")
        return ("user", "name", "token_prefix", "created_at", "expires_at", "last_used_at", "revoked_at", "revoked_by")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        # Only the label may change: a token's owner and lifetime are what it was issued with.
        return ("user", "token_prefix", "created_at", "expires_at", "last_used_at", "revoked_at", "revoked_by")

    def save_form(self, request: HttpRequest, form: forms.ModelForm, change: bool) -> ApiToken:
        if change:
            return super().save_form(request, form, change)
        token, secret = api_token_create(
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            expires_in_days=form.cleaned_data["expires_in_days"],
        )
        self.message_user(
            request,
            format_html(
                "The secret of token “{}” for {} is <code>{}</code>. Copy it now: it will not be shown again, "
                "and only its hash is kept.",
                token.name,
                token.user,
                secret,
            ),
            messages.SUCCESS,
        )
        return token

    def save_model(self, request: HttpRequest, obj: ApiToken, form: forms.ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
        # A new token was saved by api_token_create in save_form.

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: list, change: bool) -> None:
        if change:  # a new token has no related rows to save, and its form was never save()d
            super().save_related(request, form, formsets, change)

    @admin.display(description="token", ordering="prefix")
    def token_prefix(self, obj: ApiToken) -> str:
        return f"{SECRET_PREFIX}{obj.prefix}…"

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            api_token_revoke(token=token, by=request.user)
        self.message_user(request, f"{len(tokens)} token(s) revoked.", messages.SUCCESS)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    """The stored first answers to API POSTs sent with an Idempotency-Key: written by the API, shown here."""

    list_display = ("key", "user", "method", "path", "status_code", "created_at")
    list_filter = ("method", "status_code")
    list_select_related = ("user",)
    search_fields = ("key", "path", "user__username")
    ordering = ("-created_at", "-id")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: IdempotencyRecord | None = None) -> bool:
        return False
