"""Django admin: every model is registered and its pages render."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from bifrost_web.marketdata import models, services, storage

pytestmark = pytest.mark.django_db


def test_every_bifrost_model_is_registered():
    ours = [m for m in apps.get_models() if m.__module__.startswith("bifrost_web.")]
    assert ours and all(m in admin.site._registry for m in ours), [m for m in ours if m not in admin.site._registry]


@pytest.mark.parametrize("model", [m for m in apps.get_models() if m.__module__.startswith("bifrost_web.")],
                         ids=lambda m: m.__name__)
def test_changelist_renders(admin_client, model, daily_bars):
    services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test")
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = admin_client.get(url)
    assert response.status_code == 200


def test_bar_change_page_finds_bar_by_encoded_id(admin_client, daily_bars):
    services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test")
    bar = models.Bar.objects.order_by("ts").first()
    response = admin_client.get(reverse("admin:marketdata_bar_change", args=[bar.id]))
    assert response.status_code == 200
    assert f"{bar.close}" in response.content.decode()
    assert storage.decode_bar_id(bar.id)[2] == bar.ts
