"""Market-data use cases: validation before storage, all-or-nothing writes, demo and synthetic data."""

import gzip
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bifrost.core.errors import DataQualityError, InvalidInput, NoDataInRange, UnknownSymbol
from bifrost.marketdata.types import ActionKind, CorporateAction, InstrumentInfo
from bifrost_web.marketdata import models, selectors, services, storage

pytestmark = pytest.mark.django_db


def _bar_count() -> int:
    return sum(n for _, _, n, _, _ in storage.bar_counts())


def test_bars_ingest_valid_bars_stores_instrument_bars_and_actions(daily_bars):
    action = CorporateAction(symbol="ACME", ex_date=date(2024, 2, 5), kind=ActionKind.SPLIT, value=Decimal("2"))
    info = InstrumentInfo(symbol="ACME", name="Acme Corp", exchange="NYQ", sector="Industrials")

    result = services.bars_ingest(symbol="acme", timeframe="1d", bars=daily_bars, source="test",
                                  instrument_info=info, actions=[action])

    assert (result.symbol, result.rows, result.actions) == ("ACME", 61, 1)
    instrument = models.Instrument.objects.get(symbol="ACME")
    assert (instrument.name, instrument.sector) == ("Acme Corp", "Industrials")
    assert models.CorporateAction.objects.get(instrument=instrument).value == Decimal("2")
    assert models.IngestRun.objects.get().status == "succeeded"


def test_bars_ingest_high_below_close_rejects_and_stores_nothing(daily_bars):
    bad = daily_bars.copy()
    bad.loc[bad.index[3], "high"] = bad["close"].iloc[3] - 1.0

    with pytest.raises(DataQualityError) as caught:
        services.bars_ingest(symbol="ACME", timeframe="1d", bars=bad, source="test")

    message = str(caught.value)
    assert "ACME" in message and "2024-01-05" in message and "high_below_open_close" in message
    assert _bar_count() == 0
    assert not models.Instrument.objects.filter(symbol="ACME").exists()
    run = models.IngestRun.objects.get()
    assert run.status == "failed" and run.details["code"] == "data_quality"


def test_bars_ingest_missing_session_rejects_daily_gap(daily_bars):
    gapped = daily_bars.drop(daily_bars.index[10])

    with pytest.raises(DataQualityError) as caught:
        services.bars_ingest(symbol="ACME", timeframe="1d", bars=gapped, source="test")

    assert "missing_session" in str(caught.value) and daily_bars.index[10].strftime("%Y-%m-%d") in str(caught.value)
    assert _bar_count() == 0


def test_bars_ingest_unaligned_intraday_timestamp_rejected(minute_bars):
    shifted = minute_bars.copy()
    shifted.index = shifted.index + pd.Timedelta(seconds=30)

    with pytest.raises(DataQualityError, match="misaligned_timestamp"):
        services.bars_ingest(symbol="ACME", timeframe="1m", bars=shifted, source="test")
    assert _bar_count() == 0


def test_bars_ingest_is_idempotent(daily_bars):
    services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test")
    services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test")
    assert _bar_count() == len(daily_bars)


def test_file_import_malformed_csv_rejected_and_nothing_written(tmp_path, daily_bars):
    good = daily_bars.iloc[:3]
    lines = ["symbol,ts,open,high,low,close,volume"]
    for ts, row in good.iterrows():
        lines.append(f"ACME,{ts.isoformat()},{row.open},{row.high},{row.low},{row.close},{row.volume}")
    lines.append("ACME,2024-01-05T00:00:00+00:00,10,11,9,abc,100")
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")

    with pytest.raises(InvalidInput) as caught:
        services.file_import(path=str(path))

    assert "abc" in str(caught.value) and "close" in str(caught.value)
    assert _bar_count() == 0


def test_file_import_two_symbols_one_bad_writes_neither(tmp_path, daily_bars):
    frames = []
    for symbol in ("AAA", "BBB"):
        frame = daily_bars.reset_index()
        frame.insert(0, "symbol", symbol)
        frames.append(frame)
    frames[1].loc[5, "volume"] = -10  # BBB breaks the volume rule
    path = tmp_path / "two.csv.gz"
    with gzip.open(path, "wt") as handle:
        pd.concat(frames).to_csv(handle, index=False)

    with pytest.raises(DataQualityError, match="BBB"):
        services.file_import(path=str(path))

    assert _bar_count() == 0
    assert not models.Instrument.objects.filter(symbol="AAA").exists()


def test_file_import_mixed_time_zones_rejected(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(
        "ts,open,high,low,close,volume\n"
        "2024-03-01T14:30:00+00:00,10,11,9,10.5,100\n"
        "2024-03-01T09:31:00-05:00,10,11,9,10.5,100\n"
        "2024-03-01T14:32:00,10,11,9,10.5,100\n"
    )
    with pytest.raises(InvalidInput) as caught:
        services.file_import(path=str(path), symbol="ACME", timeframe="1m")
    assert "naive" in str(caught.value).lower() or "time zone" in str(caught.value).lower()
    assert _bar_count() == 0


def test_demo_load_stores_arch_sp500_history_exactly():
    import arch

    raw = pd.read_csv(Path(arch.__file__).parent / "data" / "sp500" / "sp500.csv.gz", index_col=0, parse_dates=True)

    services.demo_load()

    bars = selectors.bars_read(symbol="^GSPC", timeframe="1d", start=datetime(2008, 10, 1, tzinfo=UTC),
                               end=datetime(2008, 11, 1, tzinfo=UTC))
    expected = raw.loc["2008-10-01":"2008-10-31"]
    assert len(bars) == len(expected) == 23
    assert np.allclose(bars["close"].to_numpy(), expected["Close"].to_numpy(), rtol=0, atol=1e-9)
    # Published S&P 500 close of 2008-10-15 (down 9.03% that day): 907.84.
    assert bars.loc["2008-10-15", "close"] == pytest.approx(907.84, abs=0.005)
    assert models.Instrument.objects.get(symbol="^IXIC").asset_class == "index"


def test_synthetic_generate_same_seed_same_bars():
    services.synthetic_generate(symbols=2, start=date(2024, 1, 2), end=date(2024, 3, 29), seed=11, prefix="AAA")
    services.synthetic_generate(symbols=2, start=date(2024, 1, 2), end=date(2024, 3, 29), seed=11, prefix="BBB")
    a = selectors.bars_read(symbol="AAA001", timeframe="1d")
    b = selectors.bars_read(symbol="BBB001", timeframe="1d")
    assert len(a) == 61
    pd.testing.assert_frame_equal(a, b)


def test_bars_read_resamples_from_finer_timeframe(minute_bars):
    services.bars_ingest(symbol="ACME", timeframe="1m", bars=minute_bars, source="test")

    hourly = selectors.bars_read(symbol="ACME", timeframe="1h")

    # Early close at 13:00 ET: buckets 9:30, 10:30, 11:30 and a half-hour 12:30 bucket.
    assert [ts.strftime("%H:%M") for ts in hourly.index.tz_convert("America/New_York")] == ["09:30", "10:30", "11:30", "12:30"]
    last = minute_bars.loc["2024-11-29 17:30":"2024-11-29 17:59"]
    assert hourly["volume"].iloc[-1] == last["volume"].sum()
    assert hourly["high"].iloc[-1] == last["high"].max()


def test_bars_read_unknown_symbol_raises():
    with pytest.raises(UnknownSymbol, match="NOPE"):
        selectors.bars_read(symbol="NOPE", timeframe="1d")


def test_bars_read_coarse_only_cannot_serve_finer(daily_bars):
    services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test")
    with pytest.raises(NoDataInRange, match="1h"):
        selectors.bars_read(symbol="ACME", timeframe="1h")


def test_bars_read_inverted_range_rejected(daily_bars):
    services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test")
    with pytest.raises(InvalidInput, match="inverted"):
        selectors.bars_read(symbol="ACME", timeframe="1d", start=datetime(2024, 3, 1, tzinfo=UTC),
                            end=datetime(2024, 1, 1, tzinfo=UTC))


def test_bars_read_split_adjusted_halves_prices_before_ex_date(daily_bars):
    action = CorporateAction(symbol="ACME", ex_date=date(2024, 2, 5), kind=ActionKind.SPLIT, value=Decimal("2"))
    services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test", actions=[action])

    raw = selectors.bars_read(symbol="ACME", timeframe="1d")
    adjusted = selectors.bars_read(symbol="ACME", timeframe="1d", adjust="splits")

    before, after = raw.index < "2024-02-05", raw.index >= "2024-02-05"
    assert np.allclose(adjusted["close"][before], raw["close"][before] / 2)
    assert np.array_equal(adjusted["close"][after], raw["close"][after])
    assert np.allclose(adjusted["volume"][before], raw["volume"][before] * 2)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bars_ingest_many_stores_in_parallel_and_validates_everything_first(daily_bars):
    bad = daily_bars.copy()
    bad.loc[bad.index[7], "close"] = -1.0
    with pytest.raises(DataQualityError, match="CCC"):
        services.bars_ingest_many(series=[("AAA", "1d", daily_bars, None), ("BBB", "1d", daily_bars, None),
                                          ("CCC", "1d", bad, None)], source="test")
    assert _bar_count() == 0 and not models.Instrument.objects.exists()

    results = services.bars_ingest_many(series=[(s, "1d", daily_bars, None) for s in ("AAA", "BBB", "CCC")],
                                        source="test", workers=2)

    assert [(r.symbol, r.rows) for r in results] == [("AAA", 61), ("BBB", 61), ("CCC", 61)]
    for symbol in ("AAA", "BBB", "CCC"):
        pd.testing.assert_frame_equal(selectors.bars_read(symbol=symbol, timeframe="1d"), daily_bars,
                                      check_freq=False)


def test_bars_read_many_returns_what_bars_read_returns_for_each_symbol(daily_bars):
    from tests.factories import xnys_minute_bars

    split = CorporateAction(symbol="ACME", ex_date=date(2024, 2, 5), kind=ActionKind.SPLIT, value=Decimal("2"))
    dividend = CorporateAction(symbol="BETA", ex_date=date(2024, 2, 12), kind=ActionKind.DIVIDEND, value=Decimal("0.5"))
    services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test", actions=[split])
    services.bars_ingest(symbol="BETA", timeframe="1d", bars=daily_bars * 1.5, source="test", actions=[dividend])
    services.bars_ingest(symbol="MINI", timeframe="1m", bars=xnys_minute_bars("2024-03-04", seed=3), source="test")

    for adjust in ("none", "splits", "all"):
        many = selectors.bars_read_many(symbols=["acme", "BETA", "MINI", "NOPE"], timeframe="1d", adjust=adjust)
        assert sorted(many) == ["ACME", "BETA", "MINI"]  # unknown symbols are left out
        for symbol in ("ACME", "BETA", "MINI"):  # MINI: resampled from its minutes, like bars_read
            pd.testing.assert_frame_equal(many[symbol], selectors.bars_read(symbol=symbol, timeframe="1d", adjust=adjust))
    assert selectors.bars_read_many(symbols=["ACME"], timeframe="1h") == {}  # nothing at or below 1h: left out
    with pytest.raises(InvalidInput, match="adjust"):
        selectors.bars_read_many(symbols=["ACME"], timeframe="1d", adjust="some")
