"""The TCA report page in a real headless Chromium: the plotly charts render."""

import os
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from bifrost.core.time import SimulatedClock
from bifrost.orders import OrderRequest
from bifrost_web.execquality import models
from bifrost_web.execquality import services as eq_services
from bifrost_web.marketdata import services as md_services
from bifrost_web.trading import services
from tests.factories import xnys_daily_bars

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("BIFROST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"chromium not found at {CHROMIUM}")
        pytest.skip(f"chromium not found at {CHROMIUM}")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield instance
        instance.close()


def test_tca_page_renders_its_charts(browser, live_server):
    user = get_user_model().objects.create_user("trader", password="correct-horse-battery")
    bars = xnys_daily_bars("2024-01-02", "2024-03-28", seed=5)
    md_services.bars_ingest(symbol="ACME", timeframe="1d", bars=bars, source="test")
    portfolio = services.portfolio_create(owner=user, name="main")
    services.cash_flow_record(user=user, portfolio_id=portfolio.pk, kind="deposit", amount="1000000",
                              ts_event=datetime(2024, 1, 2, 14, 0, tzinfo=UTC), entry_id="dep-1")
    for i, size in enumerate([10, 40, 80]):
        day = bars.index[30 + 3 * i]
        services.order_submit(user=user, portfolio_id=portfolio.pk,
                              request=OrderRequest(client_order_id=f"b{i}", symbol="ACME", side="buy",
                                                   quantity=str(size), time_in_force="gtc"),
                              clock=SimulatedClock(day.to_pydatetime() - timedelta(hours=2)))
        services.paper_process(portfolio_id=portfolio.pk, until=day.to_pydatetime() + timedelta(days=1))
    report = eq_services.tca_report_request(user=user, portfolio_id=portfolio.pk)  # eager task after commit
    assert models.TCAReport.objects.get(pk=report.pk).status == "done"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "trader")
    page.fill("#id_password", "correct-horse-battery")
    page.click("#login-button")
    page.wait_for_selector("text=Overview")
    page.click("text=Execution")
    page.click("text=main")
    page.click(f"#tca-reports >> text={report.pk}")
    page.wait_for_selector("body[data-figures-rendered]")
    rendered = page.get_attribute("body", "data-figures-rendered")
    assert int(rendered) >= 3
    assert page.locator("#fig-slippage .main-svg").count() >= 1
    assert "Rule 605-style best-execution summary" in page.text_content("body")
    context.close()
