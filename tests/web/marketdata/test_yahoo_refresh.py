"""Yahoo Finance → storage end to end, replayed from recorded responses (no network)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import requests

from bifrost.adapters.yahoo import YahooProvider
from bifrost_cli.main import app
from bifrost_web.marketdata import models, selectors, tasks
from tests.adapters.yahoo.replay import FakeNow, YahooReplayAdapter

pytestmark = pytest.mark.django_db

START = "2020-08-31T00:00:00+00:00"
END = "2020-11-07T00:00:00+00:00"


@pytest.fixture
def yahoo(shared_data, tmp_path, monkeypatch):
    replay = YahooReplayAdapter(shared_data)
    session = requests.Session()
    session.mount("https://", replay)
    # "Now" is the end of the recorded range, so the recording's own split list is complete.
    provider = YahooProvider(session=session, now=FakeNow(datetime(2020, 11, 7, tzinfo=UTC)), sleep=lambda s: None,
                             cache_dir=str(tmp_path / "yf"))
    monkeypatch.setattr(tasks, "get_provider", lambda name=None: provider)
    yield replay
    assert not replay.unmapped, replay.unmapped


def test_refresh_task_stores_bars_actions_and_snapshot(yahoo):
    summary = tasks.refresh_symbol.delay("AAPL", "1d", START, END, True).get()

    assert summary == {"symbol": "AAPL", "timeframe": "1d", "rows": 49}
    instrument = models.Instrument.objects.get(symbol="AAPL")
    actions = {(a.kind, a.ex_date): a.value for a in instrument.actions.all()}
    assert actions == {("split", date(2020, 8, 31)): Decimal("4"), ("dividend", date(2020, 11, 6)): Decimal("0.205")}
    bars = selectors.bars_read(symbol="AAPL", timeframe="1d")
    assert bars.index[0] == datetime(2020, 8, 31, tzinfo=UTC) and len(bars) == 49
    snapshot = instrument.snapshots.get()
    assert snapshot.source == "yahoo" and snapshot.audit_risk is not None and snapshot.market_cap > 1e12


def test_refresh_task_is_idempotent(yahoo):
    tasks.refresh_symbol.delay("AAPL", "1d", START, END).get()
    tasks.refresh_symbol.delay("AAPL", "1d", START, END).get()
    assert [s.bars for s in selectors.series_summaries(symbols=["AAPL"])] == [49]
    assert models.CorporateAction.objects.count() == 2


def test_cli_ingest_from_yahoo_unknown_symbol_reports_and_exits_2(yahoo):
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["data", "ingest", "SIX", "--start", "2020-01-01", "--end", "2020-01-03"])
    assert result.exit_code == 2
    assert "SIX" in result.output and "does not know" in result.output
    assert not models.Instrument.objects.filter(symbol="SIX").exists()
