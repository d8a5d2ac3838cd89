"""The portal in a real headless Chromium (Debian's package) driven by Playwright."""

import os
import shutil

import pytest
from django.contrib.auth import get_user_model

from bifrost_web.marketdata import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("BIFROST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"chromium not found at {CHROMIUM}; scripts/test.sh installs Debian's chromium")
        pytest.skip(f"chromium not found at {CHROMIUM}")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):
    get_user_model().objects.create_user("trader", password="correct-horse-battery", is_staff=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def _login(page, live_server, password="correct-horse-battery"):
    page.goto(f"{live_server.url}/")
    page.fill("#id_username", "trader")
    page.fill("#id_password", password)
    page.click("#login-button")


def test_login_with_wrong_password_shows_error(page, live_server):
    _login(page, live_server, password="wrong")
    assert "didn't match" in page.text_content(".error")
    assert "/accounts/login/" in page.url


def test_login_then_logout(page, live_server):
    _login(page, live_server)
    page.wait_for_selector("text=Overview")
    assert page.text_content(".who") == "trader"
    page.click("#logout-button")
    page.wait_for_url("**/accounts/login/**")
    page.goto(f"{live_server.url}/market/")
    assert "/accounts/login/" in page.url  # logged out: protected pages redirect


def test_market_page_search_finds_demo_index(page, live_server):
    services.demo_load()
    _login(page, live_server)
    page.goto(f"{live_server.url}/market/")
    page.fill("#symbol-search", "NASDAQ")
    page.click("#search-button")
    rows = page.locator("#instrument-table tbody tr")
    assert rows.count() == 1
    assert "^IXIC" in rows.first.text_content()


def test_market_detail_renders_candlestick_chart_with_overlays(page, live_server):
    services.demo_load()
    _login(page, live_server)
    page.goto(f"{live_server.url}/market/%5EGSPC/?range=1y")
    page.wait_for_selector("#price-chart[data-rendered=true]")
    traces = page.evaluate("() => document.getElementById('price-chart').data.map(t => [t.type, t.name, t.x.length])")
    names = [t[1] for t in traces]
    assert traces[0][0] == "candlestick" and traces[0][2] >= 250
    assert {"SMA 20", "SMA 50", "Bollinger upper", "Bollinger lower", "volume"} <= set(names)
    assert page.locator("#price-chart .main-svg").count() >= 1  # Plotly drew SVG
    scripts = page.evaluate("() => [...document.scripts].map(s => s.src).filter(Boolean)")
    assert any(s.endswith("/static/vendor/plotly/plotly.min.js") for s in scripts)
    assert all(s.startswith(live_server.url) for s in scripts)  # no CDN


def test_market_detail_shows_fundamentals_history(page, live_server):
    from datetime import date

    from bifrost.marketdata.types import CompanySnapshot, InstrumentInfo

    for day, pe in ((date(2025, 1, 2), 30.5), (date(2025, 2, 3), 31.25)):
        services.company_snapshot_record(snapshot=CompanySnapshot(
            symbol="ACME", as_of=day, source="test", instrument=InstrumentInfo(symbol="ACME", name="Acme"),
            fundamentals={"trailing_pe": pe, "market_cap": 1.5e9}, governance={"audit_risk": 7, "overall_risk": 2}))
    _login(page, live_server)
    page.goto(f"{live_server.url}/market/ACME/")
    table = page.locator("#fundamentals-table tbody tr")
    assert table.count() == 2
    cells = [c.text_content() for c in table.first.locator("td").all()]
    assert cells[:4] == ["2025-02-03", "test", "1.50B", "31.25"]
    assert cells[-5] == "7" and cells[-1] == "2"  # audit_risk and overall_risk


def test_portfolio_order_ticket_blotter_and_cancel(page, live_server, daily_bars):
    services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test")
    _login(page, live_server)
    page.goto(f"{live_server.url}/portfolios/")
    page.fill("#portfolio-name", "swing")
    page.click("#portfolio-create")
    page.wait_for_selector("text=Created portfolio swing.")
    page.fill("#cash-amount", "10000")
    page.click("#cash-submit")
    page.wait_for_selector("text=Cash flow recorded.")
    assert page.text_content("#cash").strip() == "10000.00"

    page.fill("#ticket-symbol", "ACME")
    page.fill("#ticket-quantity", "5")
    page.select_option("#ticket-type", "limit")
    page.fill("#ticket-limit", "40")
    page.select_option("#ticket-tif", "gtc")
    page.click("#ticket-submit")
    page.wait_for_selector("#blotter td.status-accepted")
    row = page.locator("#blotter tbody tr").first
    assert "ACME" in row.text_content() and "limit" in row.text_content()

    row.locator("button", has_text="Cancel").click()
    page.wait_for_selector("#blotter td.status-cancelled")

    page.fill("#ticket-symbol", "ACME")
    page.fill("#ticket-quantity", "1000")
    page.select_option("#ticket-tif", "gtc")
    page.click("#ticket-submit")
    message = page.text_content(".messages")
    assert "rejected" in message and "cash" in message.lower()
