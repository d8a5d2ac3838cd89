"""Backtests REST API and portal pages: runs via Celery (eager here), results, compare, sweeps, isolation."""

import pytest

from bifrost_web.backtests import models, selectors, services
from bifrost_web.marketdata import services as md_services
from tests.factories import xnys_daily_bars
from tests.web.conftest import token_client as _client
from tests.web.test_backtests_storage import make_record

pytestmark = pytest.mark.django_db

RUN = {"strategy": "sma_crossover", "symbols": ["ACME"], "start": "2023-01-01T00:00:00Z",
       "end": "2024-01-01T00:00:00Z", "params": {"fast": 5, "slow": 20}, "commission_bps": 10}


@pytest.fixture
def acme(db):
    bars = xnys_daily_bars("2023-01-03", "2023-12-29", seed=3)
    md_services.bars_ingest(symbol="ACME", timeframe="1d", bars=bars, source="test")
    return bars


def test_create_returns_202_and_the_task_stores_the_run(alice, acme, django_capture_on_commit_callbacks):
    client = _client(alice)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        created = client.post("/api/v1/backtests/", RUN, format="json")
    detail = client.get(f"/api/v1/backtests/{created.json()['id']}/").json()

    assert created.status_code == 202, created.json()
    assert created.json()["status"] == "queued" and len(callbacks) == 1
    assert detail["status"] == "done" and detail["params"] == {"fast": 5, "slow": 20, "quantity": 100}
    record = selectors.backtest_record(user=alice, backtest_id=detail["id"])
    assert detail["metrics"]["total_return"] == pytest.approx(record.final_equity / 100_000 - 1, rel=1e-12)


def test_create_bad_input_is_400_naming_it_and_writes_nothing(alice, acme):
    client = _client(alice)

    unknown_symbol = client.post("/api/v1/backtests/", {**RUN, "symbols": ["ACME", "ZZZZ"]}, format="json")
    unknown_param = client.post("/api/v1/backtests/", {**RUN, "params": {"fats": 3}}, format="json")
    unknown_strategy = client.post("/api/v1/backtests/", {**RUN, "strategy": "magic"}, format="json")

    assert unknown_symbol.status_code == 400 and "ZZZZ" in unknown_symbol.json()["message"]
    assert unknown_param.status_code == 400 and "fats" in unknown_param.json()["message"]
    assert unknown_strategy.status_code == 400 and "magic" in unknown_strategy.json()["message"]
    assert not models.Backtest.objects.exists()


def test_results_endpoints_serve_the_stored_record(alice):
    record = make_record()
    stored = services.backtest_store_record(user=alice, record=record, name="imported")
    client = _client(alice)

    equity = client.get(f"/api/v1/backtests/{stored.pk}/equity/").json()
    fills = client.get(f"/api/v1/backtests/{stored.pk}/fills/").json()
    trades = client.get(f"/api/v1/backtests/{stored.pk}/trades/").json()
    orders = client.get(f"/api/v1/backtests/{stored.pk}/orders/").json()

    assert equity["equity"] == list(record.equity) and equity["ts"][0] == "2024-01-02T00:00:00+00:00"
    peak = record.equity.cummax().clip(lower=record.initial_cash)
    assert equity["drawdown"] == pytest.approx(list(record.equity / peak - 1), abs=1e-15)
    assert [(f["side"], f["price"], f["commission"]) for f in fills] == [
        ("buy", 50.125, 5.0125), ("sell", 51.3, 5.13), ("buy", 49.0, 2.45), ("sell", 48.5, 2.425)]
    assert trades[0]["pnl"] == pytest.approx((51.3 - 50.125) * 100 - (5.0125 + 5.13 + 0.0139), rel=1e-12)
    assert trades[1]["pnl"] == pytest.approx((48.5 - 49.0) * 50 - (2.45 + 2.425 + 0.0067), rel=1e-12)
    assert orders[4]["status"] == "rejected" and orders[4]["limit_price"] is None


def test_tearsheet_is_standalone_html_with_all_figures(alice):
    stored = services.backtest_store_record(user=alice, record=make_record(n_sessions=260), name="ts")

    response = _client(alice).get(f"/api/v1/backtests/{stored.pk}/tearsheet/?download=1")

    body = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert response["Content-Disposition"] == f'attachment; filename="backtest-{stored.pk}-tearsheet.html"'
    for title in ("Equity curve", "Underwater (drawdown)", "Monthly returns", "Rolling Sharpe ratio", "Trades"):
        assert title in body, title
    assert 'src="https://cdn' not in body and "<!DOCTYPE html>" in body


def test_compare_endpoint(alice):
    a = services.backtest_store_record(user=alice, record=make_record(seed=1), name="a")
    b = services.backtest_store_record(user=alice, record=make_record(seed=2), name="b")

    body = _client(alice).get(f"/api/v1/backtests/compare/?ids={a.pk},{b.pk}").json()
    missing = _client(alice).get("/api/v1/backtests/compare/")

    assert [r["id"] for r in body["backtests"]] == [a.pk, b.pk]
    assert body["equity"][0]["value"][-1] == pytest.approx(make_record(seed=1).equity.iloc[-1] / 100_000, rel=1e-15)
    assert missing.status_code == 400 and "ids" in missing.json()["message"]


def test_users_never_see_each_others_backtests_or_sweeps(alice, bob, acme):
    mine = services.backtest_store_record(user=alice, record=make_record(), name="alice's")
    sweep = services.sweep_create(user=alice, strategy="sma_crossover", method="grid", space_spec={"fast": [3, 5]},
                                  symbols=["ACME"])
    theirs = _client(bob)

    assert theirs.get("/api/v1/backtests/").json() == []
    assert theirs.get("/api/v1/sweeps/").json() == []
    for suffix in ("", "equity/", "fills/", "trades/", "orders/", "tearsheet/", "analysis/"):
        response = theirs.get(f"/api/v1/backtests/{mine.pk}/{suffix}")
        assert response.status_code == 404, suffix
    assert theirs.get(f"/api/v1/backtests/compare/?ids={mine.pk},{mine.pk + 1}").status_code in (400, 404)
    assert theirs.get(f"/api/v1/sweeps/{sweep.pk}/").status_code == 404
    assert theirs.delete(f"/api/v1/backtests/{mine.pk}/").status_code == 404
    assert models.Backtest.objects.filter(pk=mine.pk).exists()
    assert [b["name"] for b in _client(alice).get("/api/v1/backtests/").json()] == ["alice's"]


def test_sweep_create_then_detail_shows_progress_best_dsr_and_pbo(alice, acme, django_capture_on_commit_callbacks):
    client = _client(alice)
    body = {"strategy": "sma_crossover", "method": "grid", "space": {"fast": [3, 5], "slow": [15, 25]},
            "symbols": ["ACME"], "start": "2023-01-01T00:00:00Z", "end": "2024-01-01T00:00:00Z", "chunk_size": 3}

    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/v1/sweeps/", body, format="json")
    detail = client.get(f"/api/v1/sweeps/{created.json()['id']}/").json()

    assert created.status_code == 202 and created.json()["n_trials"] == 4
    assert detail["status"] == "done" and detail["trials_done"] == 4 and detail["progress"] == 1.0
    values = [t["value"] for t in detail["trials"]]
    assert detail["best_value"] == max(values)
    assert detail["best_params"] == detail["trials"][values.index(max(values))]["params"]
    assert 0 <= detail["deflated_sharpe"]["probability"] <= 1 and 0 <= detail["pbo"]["pbo"] <= 1


def test_sweep_bad_space_is_400(alice, acme):
    response = _client(alice).post("/api/v1/sweeps/", {"strategy": "sma_crossover", "method": "grid",
                                                       "space": {"fast": {"low": 1}}, "symbols": ["ACME"]},
                                   format="json")
    assert response.status_code == 400 and "space fast" in response.json()["message"]


def test_strategies_endpoint_lists_the_registered_ones_with_defaults(alice):
    listed = {s["name"]: s["params"] for s in _client(alice).get("/api/v1/backtests/strategies/").json()}
    assert listed["sma_crossover"] == {"fast": 10, "slow": 30, "quantity": 100}
    assert {"bollinger_reversion", "macd_trend", "momentum_rotation"} <= set(listed)


# ----------------------------------------------------------------------------- portal pages

@pytest.fixture
def logged_in(client, alice):
    client.force_login(alice)
    return client


def test_portal_detail_page_embeds_the_tearsheet_figures(logged_in, alice):
    stored = services.backtest_store_record(user=alice, record=make_record(n_sessions=260), name="page")

    page = logged_in.get(f"/backtests/{stored.pk}/")
    export = logged_in.get(f"/backtests/{stored.pk}/tearsheet.html")

    html = page.content.decode()
    assert page.status_code == 200
    for figure_id in ("fig-equity", "fig-underwater", "fig-monthly", "fig-rolling_sharpe", "fig-trades"):
        assert f'id="{figure_id}"' in html, figure_id
    assert 'id="export-html"' in html and 'id="trades-table"' in html and ">Backtests</a>" in html
    assert export["Content-Disposition"].startswith("attachment") and b"Equity curve" in export.content


def test_portal_run_form_queues_and_runs(logged_in, alice, acme, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post("/backtests/", {"strategy": "sma_crossover", "symbols": "ACME",
                                                  "start": "2023-01-01", "end": "2024-01-01",
                                                  "params": "fast=5 slow=20", "cash": "100000"})
    backtest = models.Backtest.objects.get()
    status = logged_in.get(f"/backtests/{backtest.pk}/status.json").json()
    assert response.status_code == 302 and response["Location"] == f"/backtests/{backtest.pk}/"
    assert status == {"id": backtest.pk, "status": "done", "progress": 1.0, "error": ""}
    assert backtest.params == {"fast": 5, "slow": 20, "quantity": 100}
    listing = logged_in.get("/backtests/").content.decode()
    record = selectors.backtest_record(user=alice, backtest_id=backtest.pk)
    assert f"{record.final_equity / 100_000 - 1:.2%}" in listing


def test_portal_run_form_bad_input_shows_the_message(logged_in, acme):
    response = logged_in.post("/backtests/", {"strategy": "sma_crossover", "symbols": "ACME", "params": "fast=x"})
    assert response.status_code == 200 and "parameter fast must be an integer" in response.content.decode()
    assert not models.Backtest.objects.exists()


def test_portal_compare_and_sweep_pages(logged_in, alice, acme):
    a = services.backtest_store_record(user=alice, record=make_record(seed=1), name="first")
    b = services.backtest_store_record(user=alice, record=make_record(seed=2), name="second")
    sweep = services.sweep_create(user=alice, strategy="sma_crossover", method="grid",
                                  space_spec={"fast": [3, 5], "slow": [15, 25]}, symbols=["ACME"],
                                  start="2023-01-01", end="2024-01-01")
    services.sweep_run_inline(sweep_id=sweep.pk)

    compare = logged_in.get(f"/backtests/compare/?ids={a.pk}&ids={b.pk}").content.decode()
    page = logged_in.get(f"/sweeps/{sweep.pk}/").content.decode()
    progress = logged_in.get(f"/sweeps/{sweep.pk}/progress.json").json()

    assert f"#{a.pk} first" in compare and f"#{b.pk} second" in compare and 'id="compare-chart"' in compare
    assert 'id="sweep-heatmap"' in page and page.count("status-done") >= 4
    assert progress["trials_done"] == 4 and progress["status"] == "done"


def test_portal_pages_of_another_user_are_404(client, bob, alice):
    stored = services.backtest_store_record(user=alice, record=make_record())
    client.force_login(bob)
    assert client.get(f"/backtests/{stored.pk}/").status_code == 404
    assert client.get(f"/backtests/{stored.pk}/tearsheet.html").status_code == 404
    assert client.get(f"/backtests/{stored.pk}/status.json").status_code == 404


def test_owner_can_delete_a_backtest_with_its_results(alice):
    stored = services.backtest_store_record(user=alice, record=make_record())

    response = _client(alice).delete(f"/api/v1/backtests/{stored.pk}/")

    assert response.status_code == 204
    assert not models.Backtest.objects.exists()
    assert not models.BacktestFill.objects.exists() and not models.BacktestSeries.objects.exists()


def test_analysis_endpoint_runs_the_services_and_refuses_bad_sections(alice):
    stored = services.backtest_store_record(user=alice, record=make_record(), name="analysed")
    client = _client(alice)
    body = client.get(f"/api/v1/backtests/{stored.pk}/analysis/?sections=tax").json()
    assert set(body) == {"backtest", "tax"} and body["tax"]["disposals"] >= 0
    bad = client.get(f"/api/v1/backtests/{stored.pk}/analysis/?sections=horoscope")
    assert bad.status_code == 400 and "horoscope" in bad.json()["message"]
