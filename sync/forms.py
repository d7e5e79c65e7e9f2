"""The integration's admin form: a stored API key is never rendered back."""

from __future__ import annotations

from typing import Any

from django import forms

from .models import FlourishIntegration


def masked(secret: str) -> str:
    """ "set, ending in …abcd" (or "not set"): enough to tell keys apart, never the key."""
    if not secret:
        return "not set"
    return f"set, ending in …{secret[-4:]}" if len(secret) >= 12 else "set"


class FlourishIntegrationForm(forms.ModelForm):
    base_url = forms.URLField(
        label="Flourish base URL",
        assume_scheme="https",
        initial="https://app.flourishsoftware.com",
        help_text="https://app.flourishsoftware.com unless Flourish told you otherwise.",
    )
    api_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = FlourishIntegration
        fields = [
            "base_url",
            "api_username",
            "api_key",
            "enabled",
            "inventory_sync_interval_minutes",
            "check_sellable_on_confirm",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._stored_api_key = self.instance.api_key if self.instance.pk else ""
        # The initial value would otherwise travel to the browser in the form's state.
        self.initial["api_key"] = ""
        self.fields["api_key"].help_text = (
            f"Currently {masked(self._stored_api_key)}. Leave empty to keep it; "
            "type a new key to replace it."
            if self._stored_api_key
            else "The API key from Flourish (Manage Settings → Integrations → API)."
        )

    def clean_api_key(self) -> str:
        api_key: str = self.cleaned_data.get("api_key") or ""
        return api_key or self._stored_api_key
