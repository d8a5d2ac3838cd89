"""The risk dashboard in headless Chromium: plotly charts render, a limit is saved from the form,
an alert is acknowledged."""

from __future__ import annotations

import os
import shutil

import pytest
from django.contrib.auth import get_user_model

from bifrost_web.risk import models
from tests.risk.webdata import funded_portfolio, ingest_instruments


@pytest.fixture(autouse=True)
def _fresh_risk_caches():
    """Database ids are reused after each test's rollback: drop the risk layer's process caches."""
    yield
    from bifrost_web.risk import market

    market.clear_cache()


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("BIFROST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"chromium not found at {CHROMIUM}")
        pytest.skip(f"chromium not found at {CHROMIUM}")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def test_dashboard_charts_limits_and_alerts(page, live_server):
    user = get_user_model().objects.create_user("trader", password="correct-horse-battery")
    ingest_instruments()
    portfolio = funded_portfolio(user, "main", buys={"AAA": "300", "BBB": "400", "CCC": "200"})
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "trader")
    page.fill("#id_password", "correct-horse-battery")
    page.click("#login-button")
    page.click("text=Risk")
    page.click(f"#risk-portfolios >> text={portfolio.name}")
    page.wait_for_selector("#chart-correlation[data-rendered=true]")
    page.wait_for_selector("#chart-contributions[data-rendered=true]")
    assert "historical" in page.text_content("#risk-var-table")
    page.select_option("#limit-kind", "position_weight")
    page.fill("#limit-soft", "0.05")
    page.fill("#limit-hard", "0.5")
    page.click("#limit-save")
    page.wait_for_selector("text=Saved the position_weight limit.")
    page.wait_for_selector("#chart-limits[data-rendered=true]")
    assert str(models.LimitRule.objects.get().soft.normalize()) == "0.05"
    from bifrost_web.risk import services

    services.risk_revalue(portfolio_id=portfolio.pk, trigger="manual")
    page.reload()
    page.click("#risk-alerts button.ack")
    page.wait_for_selector("#risk-alerts >> text=acknowledged")
    assert models.RiskAlert.objects.get().acknowledged
