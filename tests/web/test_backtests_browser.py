"""Backtest pages in a real headless Chromium: run form, interactive tear sheet, compare, sweep progress."""

import ast

import pytest

from bifrost_web.backtests import models
from bifrost_web.marketdata import services as md_services
from tests.factories import xnys_daily_bars
from tests.web.test_browser import _login, browser, page  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme():
    md_services.bars_ingest(symbol="ACME", timeframe="1d", bars=xnys_daily_bars("2022-01-03", "2023-12-29", seed=3),
                            source="test")


def _run(tab, live_server, params):
    tab.goto(f"{live_server.url}/backtests/")
    tab.select_option("#run-strategy", "sma_crossover")
    tab.fill("#run-symbols", "ACME")
    tab.fill("#run-params", params)
    tab.click("#run-submit")
    tab.wait_for_selector("#metric-tiles")
    return int(tab.url.rstrip("/").split("/")[-1])


def test_run_form_to_interactive_tearsheet_and_compare(page, live_server, acme):  # noqa: F811
    _login(page, live_server)
    page.click("text=Backtests")
    page.select_option("#run-strategy", "sma_crossover")
    assert page.text_content("#param-hint") == 'Defaults: {"fast": 10, "slow": 30, "quantity": 100}'

    first = _run(page, live_server, "fast=5 slow=20")
    page.wait_for_selector("body[data-figures-rendered='5']")
    plots = page.locator(".figure .main-svg").count()
    tiles = page.text_content("#metric-tiles")
    second = _run(page, live_server, "fast=10 slow=40")
    page.goto(f"{live_server.url}/backtests/")
    page.check(f"input[name=ids][value='{first}']")
    page.check(f"input[name=ids][value='{second}']")
    page.click("#compare-button")
    page.wait_for_selector("#compare-chart[data-rendered='true']")

    assert models.Backtest.objects.filter(status="done").count() == 2
    assert plots >= 5 and "Total return" in tiles
    assert page.locator("#compare-chart .scatterlayer .trace").count() == 2
    assert f"#{first}" in page.text_content("#compare-table")


def test_sweep_form_shows_progress_and_results(page, live_server, acme):  # noqa: F811
    _login(page, live_server)
    page.goto(f"{live_server.url}/sweeps/")
    page.select_option("#sweep-strategy", "sma_crossover")
    page.fill("#sweep-symbols", "ACME")
    page.fill("#sweep-space", '{"fast": [3, 5, 8], "slow": [20, 30]}')
    page.click("#sweep-submit")
    page.wait_for_selector("#sweep-heatmap[data-rendered='true']")

    assert page.text_content("#sweep-count").strip() == "6 / 6"
    assert page.get_attribute("#sweep-progress", "value") == "1.0"
    assert page.locator("#trials-table tbody tr").count() == 6
    assert models.Sweep.objects.get().best_params == ast.literal_eval(page.text_content("#best-params"))
