"""The ``bifrost`` command line: help everywhere, ingest, show, quality, export, doctor."""

import json

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from bifrost_cli.main import app

pytestmark = pytest.mark.django_db
runner = CliRunner()


def _all_command_paths(command, prefix=()):
    yield prefix
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _all_command_paths(sub, (*prefix, name))


def test_every_command_has_help():
    paths = list(_all_command_paths(get_command(app)))
    assert ("data", "ingest") in paths and ("doctor",) in paths and ("serve",) in paths and ("worker",) in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output


def _write_csv(tmp_path, daily_bars, symbol="ACME"):
    frame = daily_bars.reset_index()
    frame["ts"] = frame["ts"].map(lambda t: t.strftime("%Y-%m-%d"))
    frame.insert(0, "symbol", symbol)
    path = tmp_path / f"{symbol}.csv"
    frame.to_csv(path, index=False)
    return path


def test_ingest_file_then_show_prints_stored_closes(tmp_path, daily_bars):
    path = _write_csv(tmp_path, daily_bars)

    ingest = runner.invoke(app, ["data", "ingest", "--file", str(path)])
    show = runner.invoke(app, ["data", "show", "ACME", "--rows", "2", "--format", "json"])

    assert ingest.exit_code == 0, ingest.output
    assert "ACME" in ingest.output and "61" in ingest.output
    rows = json.loads(show.output)
    assert [round(r["close"], 9) for r in rows] == [round(v, 9) for v in daily_bars["close"].iloc[-2:]]


def test_ingest_bad_file_exits_2_with_rule_and_stores_nothing(tmp_path, daily_bars):
    from bifrost_web.marketdata import models

    bad = daily_bars.copy()
    bad.loc[bad.index[4], "volume"] = -5
    path = _write_csv(tmp_path, bad)

    result = runner.invoke(app, ["data", "ingest", "--file", str(path)])

    assert result.exit_code == 2
    assert "negative_volume" in result.output and "ACME" in result.output
    assert not models.Instrument.objects.filter(symbol="ACME").exists()


def test_ingest_missing_file_exits_2():
    result = runner.invoke(app, ["data", "ingest", "--file", "/nonexistent/bars.csv"])
    assert result.exit_code == 2 and "file not found" in result.output


def test_show_unknown_symbol_exits_2():
    result = runner.invoke(app, ["data", "show", "NOPE"])
    assert result.exit_code == 2 and "unknown symbol NOPE" in result.output


def test_quality_reports_ok_for_clean_series(tmp_path, daily_bars):
    runner.invoke(app, ["data", "ingest", "--file", str(_write_csv(tmp_path, daily_bars))])
    result = runner.invoke(app, ["data", "quality", "ACME"])
    assert result.exit_code == 0, result.output
    assert "61 bars" in result.output


def test_generate_and_resample_store_hourly_bars():
    gen = runner.invoke(app, ["data", "generate", "--symbols", "1", "--start", "2024-11-29", "--end", "2024-11-29",
                              "-t", "1m", "--prefix", "GEN"])
    res = runner.invoke(app, ["data", "resample", "GEN000", "--from", "1m", "--to", "1h", "--store"])

    assert gen.exit_code == 0, gen.output
    assert res.exit_code == 0, res.output
    assert "210 1m bars -> 4 1h bars" in res.output  # 13:00 early close
    from bifrost_web.marketdata import selectors

    assert len(selectors.bars_read(symbol="GEN000", timeframe="1h")) == 4


def test_export_round_trips_through_import(tmp_path, daily_bars):
    runner.invoke(app, ["data", "ingest", "--file", str(_write_csv(tmp_path, daily_bars))])
    out = tmp_path / "export.parquet"
    exported = runner.invoke(app, ["data", "export", "ACME", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    from bifrost.adapters.files import read_bars_file

    [item] = read_bars_file(out)
    assert item.symbol == "ACME" and len(item.bars) == 61
    assert item.bars["close"].tolist() == daily_bars["close"].tolist()


def test_doctor_reports_database_and_timescale_status():
    from django.db import connection

    result = runner.invoke(app, ["doctor"], env={"COLUMNS": "200"})

    assert "database" in result.output and "exchange-calendars" in result.output
    if connection.vendor == "postgresql":
        assert "PostgreSQL 15" in result.output and "TimescaleDB" in result.output
    else:
        assert "SQLite" in result.output and "embedded default" in result.output


def test_user_create_then_token_authenticates_api():
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    created = runner.invoke(app, ["user", "create", "carol", "--password", "a-long-passphrase-42", "--staff"])
    token = runner.invoke(app, ["user", "token", "carol"])

    assert created.exit_code == 0, created.output
    user = get_user_model().objects.get(username="carol")
    assert user.is_staff and user.check_password("a-long-passphrase-42")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.output.strip()}")
    assert client.get("/api/v1/instruments/").status_code == 200


def test_user_create_weak_password_or_duplicate_rejected():
    weak = runner.invoke(app, ["user", "create", "dave", "--password", "123"])
    runner.invoke(app, ["user", "create", "erin", "--password", "a-long-passphrase-42"])
    duplicate = runner.invoke(app, ["user", "create", "erin", "--password", "a-long-passphrase-42"])
    assert weak.exit_code == 2 and "password rejected" in weak.output
    assert duplicate.exit_code == 2 and "already exists" in duplicate.output


def test_portfolio_and_order_commands_round_trip(daily_bars, monkeypatch):
    from datetime import UTC, datetime

    from django.contrib.auth import get_user_model

    from bifrost.core.time import SimulatedClock
    from bifrost_web.marketdata import services as md_services
    from bifrost_web.trading import services as tr_services

    get_user_model().objects.create_user("trader", password="pw-trader-12345")
    md_services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test")
    monkeypatch.setattr(tr_services, "WallClock", lambda: SimulatedClock(datetime(2024, 1, 2, 15, 0, tzinfo=UTC)))
    env = {"BIFROST_USER": "trader", "COLUMNS": "200"}

    created = runner.invoke(app, ["portfolio", "create", "main"], env=env)
    deposited = runner.invoke(app, ["portfolio", "deposit", "main", "10000"], env=env)
    submitted = runner.invoke(app, ["order", "submit", "main", "buy", "10", "ACME", "--tif", "gtc",
                                    "--client-order-id", "c1"], env=env)
    rejected = runner.invoke(app, ["order", "submit", "main", "buy", "1000", "ACME", "--tif", "gtc"], env=env)
    processed = runner.invoke(app, ["portfolio", "paper-process", "main"], env=env)
    shown = runner.invoke(app, ["portfolio", "show", "main", "--json"], env=env)
    events = runner.invoke(app, ["order", "show", "main", "c1"], env=env)
    cancel_filled = runner.invoke(app, ["order", "cancel", "main", "c1"], env=env)

    assert created.exit_code == deposited.exit_code == submitted.exit_code == 0, created.output + submitted.output
    assert "order c1 accepted" in submitted.output
    assert rejected.exit_code == 2 and "order_rejected" in rejected.output and "cash" in rejected.output
    assert "1 new fills" in processed.output
    report = json.loads(shown.output)
    assert report["positions"][0]["symbol"] == "ACME" and report["positions"][0]["quantity"] == "10"
    assert [k for k in ("submitted", "accepted", "filled") if k in events.output] == ["submitted", "accepted", "filled"]
    assert cancel_filled.exit_code == 2 and "nothing to cancel" in cancel_filled.output


def test_portfolio_commands_for_unknown_user_or_portfolio_exit_2():
    missing_user = runner.invoke(app, ["portfolio", "list", "--user", "ghost"])
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("trader", password="pw-trader-12345")
    missing_portfolio = runner.invoke(app, ["portfolio", "show", "nope", "--user", "trader"])
    assert missing_user.exit_code == 2 and "no user named 'ghost'" in missing_user.output
    assert missing_portfolio.exit_code == 2 and "no portfolio 'nope'" in missing_portfolio.output


def test_import_trades_example_file_books_lots_and_is_idempotent(tmp_path):
    import re
    from decimal import Decimal
    from pathlib import Path

    from django.contrib.auth import get_user_model

    from bifrost_web.trading import models
    from bifrost_web.trading import services as tr_services

    doc = (Path(__file__).resolve().parents[2] / "docs" / "trade-import.md").read_text()
    example = re.search(r"\n(type,trade_id,account,date,.*?)\n```", doc, re.S).group(1)
    path = tmp_path / "history.csv"
    path.write_text(example + "\n")
    get_user_model().objects.create_user("trader", password="pw-trader-12345")
    env = {"BIFROST_USER": "trader", "COLUMNS": "200"}
    runner.invoke(app, ["portfolio", "create", "broker", "--account-type", "margin", "--leverage", "2"], env=env)

    first = runner.invoke(app, ["portfolio", "import-trades", "broker", str(path)], env=env)
    second = runner.invoke(app, ["portfolio", "import-trades", "broker", str(path)], env=env)

    assert first.exit_code == 0, first.output
    assert "imported 5 trades and 6 cash events" in first.output
    assert "imported 0 trades and 0 cash events (11 already present)" in second.output
    portfolio = models.Portfolio.objects.get(name="broker")
    ledger = tr_services.ledger_for(portfolio)
    # 150 AAPL bought, 40 sold from lot T-1002 (specific id), then a 4:1 split: (150 - 40) × 4 = 440.
    assert ledger.position("AAPL").quantity == Decimal("440")
    assert [lot.lot_id for lot in ledger.open_lots("AAPL")] == ["T-1001", "T-1002"]
    assert ledger.position("TSLA").quantity == 0
    ledger.reconcile()


def test_order_submit_lot_method_override_is_stored_and_relieves_lifo(daily_bars, monkeypatch):
    from datetime import UTC, datetime

    from django.contrib.auth import get_user_model

    from bifrost.core.time import SimulatedClock
    from bifrost_web.marketdata import services as md_services
    from bifrost_web.trading import models, reports
    from bifrost_web.trading import services as tr_services

    get_user_model().objects.create_user("trader", password="pw-trader-12345")
    md_services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test")
    env = {"BIFROST_USER": "trader", "COLUMNS": "200"}
    # a margin account: the deposit is stamped now, after these 2024 trades, which a cash account
    # would rightly call free riding
    runner.invoke(app, ["portfolio", "create", "main", "--account-type", "margin"], env=env)
    runner.invoke(app, ["portfolio", "deposit", "main", "100000"], env=env)
    for day, cid in ((2, "b1"), (8, "b2")):
        monkeypatch.setattr(tr_services, "WallClock", lambda d=day: SimulatedClock(datetime(2024, 1, d, 15, tzinfo=UTC)))
        runner.invoke(app, ["order", "submit", "main", "buy", "10", "ACME", "--tif", "gtc", "--client-order-id", cid],
                      env=env)
        runner.invoke(app, ["portfolio", "paper-process", "main"], env=env)
    monkeypatch.setattr(tr_services, "WallClock", lambda: SimulatedClock(datetime(2024, 1, 16, 15, tzinfo=UTC)))
    sold = runner.invoke(app, ["order", "submit", "main", "sell", "10", "ACME", "--tif", "gtc", "--client-order-id",
                               "s1", "--lot-method", "lifo"], env=env)
    runner.invoke(app, ["portfolio", "paper-process", "main"], env=env)
    bad = runner.invoke(app, ["order", "submit", "main", "sell", "1", "ACME", "--lot-method", "cheapest"], env=env)

    portfolio = models.Portfolio.objects.get(name="main")
    first_fill = models.Fill.objects.get(order__client_order_id="b1").fill_id
    left = reports.lots_report(portfolio)["lots"]
    assert sold.exit_code == 0, sold.output
    assert models.Order.objects.get(client_order_id="s1").lot_method == "lifo"
    assert len(left) == 1 and first_fill in left[0]["lot_id"]  # LIFO sold the later lot
    assert bad.exit_code == 2 and "cheapest" in bad.output
