"""Stored backtests: a BacktestRecord goes into the database and comes back exactly."""

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bifrost.backtest.results import FILL_COLUMNS, ORDER_COLUMNS, BacktestRecord
from bifrost.core.calendars import get_calendar
from bifrost.core.errors import InvalidInput, NotFoundError
from bifrost_web.backtests import codec, models, selectors, services

pytestmark = pytest.mark.django_db


def make_record(*, n_sessions: int = 60, seed: int = 1, cash: float = 100_000.0, with_extras: bool = False
                ) -> BacktestRecord:
    """A realistic record: equity on XNYS sessions, two round trips in ACME, one rejected order."""
    sessions = get_calendar("XNYS").sessions_in_range("2024-01-02", "2025-12-31")[:n_sessions].tz_localize("UTC")
    sessions = pd.DatetimeIndex(sessions, freq=None)
    rng = np.random.default_rng(seed)
    equity = pd.Series(cash * np.exp(np.cumsum(rng.normal(0, 0.01, n_sessions))), index=sessions, name="equity")
    prices = pd.DataFrame({"ACME": 50 * np.exp(np.cumsum(rng.normal(0, 0.01, n_sessions))),
                           "BETA": 20 * np.exp(np.cumsum(rng.normal(0, 0.01, n_sessions)))}, index=sessions)
    positions = pd.DataFrame({"ACME": np.r_[np.zeros(5), np.full(10, 100.0), np.zeros(n_sessions - 15)],
                              "BETA": np.zeros(n_sessions)}, index=sessions)
    fills = pd.DataFrame({
        "ts": [sessions[5], sessions[15], sessions[20], sessions[30]],
        "symbol": ["ACME", "ACME", "ACME", "ACME"],
        "side": ["buy", "sell", "buy", "sell"],
        "quantity": [100.0, 100.0, 50.0, 50.0],
        "price": [50.125, 51.3, 49.0, 48.5],
        "commission": [5.0125, 5.13, 2.45, 2.425],
        "fees": [0.0, 0.0139, 0.0, 0.0067],
        "order_id": ["o1", "o2", "o3", "o4"],
        "fill_id": ["f1", "f2", "f3", "f4"],
    })
    orders = pd.DataFrame({
        "order_id": ["o1", "o2", "o3", "o4", "o5"],
        "ts_submitted": [sessions[4], sessions[14], sessions[19], sessions[29], sessions[40]],
        "symbol": ["ACME"] * 4 + ["BETA"],
        "side": ["buy", "sell", "buy", "sell", "buy"],
        "order_type": ["market", "market", "limit", "stop", "market"],
        "quantity": [100.0, 100.0, 50.0, 50.0, 1e9],
        "limit_price": [np.nan, np.nan, 49.0, np.nan, np.nan],
        "stop_price": [np.nan, np.nan, np.nan, 48.6, np.nan],
        "status": ["filled", "filled", "filled", "filled", "rejected"],
        "reason": ["", "", "", "", "insufficient buying power"],
    }).astype({"ts_submitted": "datetime64[ns, UTC]"})
    fills = fills.astype({"ts": "datetime64[ns, UTC]"})
    if with_extras:
        fills["liquidity"] = ["taker", "maker", "taker", "taker"]
    benchmark = pd.Series(rng.normal(0, 0.008, n_sessions), index=sessions, name="SPY")
    return BacktestRecord(equity=equity, fills=fills, orders=orders, initial_cash=cash, strategy="sma_crossover",
                          params={"fast": 10, "slow": 30, "quantity": 100}, engine="bifrost",
                          symbols=("ACME", "BETA"), timeframe="1d", benchmark=benchmark, prices=prices,
                          positions=positions)


def assert_records_equal(back: BacktestRecord, record: BacktestRecord) -> None:
    pd.testing.assert_series_equal(back.equity, record.equity, check_exact=True)
    pd.testing.assert_frame_equal(back.fills, record.fills, check_exact=True)
    pd.testing.assert_frame_equal(back.orders, record.orders, check_exact=True)
    for name in ("benchmark", "prices", "positions"):
        original, restored = getattr(record, name), getattr(back, name)
        if original is None:
            assert restored is None
        elif isinstance(original, pd.Series):
            pd.testing.assert_series_equal(restored, original, check_exact=True)
        else:
            pd.testing.assert_frame_equal(restored, original, check_exact=True)
    assert (back.initial_cash, back.strategy, dict(back.params), back.engine, back.symbols, back.timeframe) == (
        record.initial_cash, record.strategy, dict(record.params), record.engine, record.symbols, record.timeframe)


def test_store_record_then_read_back_is_exact(alice):
    record = make_record(with_extras=True)

    stored = services.backtest_store_record(user=alice, record=record, name="imported", source="backtrader-import")
    back = selectors.backtest_record(user=alice, backtest_id=stored.pk)

    assert_records_equal(back, record)
    assert stored.source == "backtrader-import" and stored.status == "done"
    assert models.BacktestFill.objects.filter(backtest=stored).count() == 4
    assert models.BacktestOrder.objects.filter(backtest=stored, status="rejected").get().reason == \
        "insufficient buying power"


def test_stored_metrics_match_an_independent_computation(alice):
    record = make_record()

    stored = services.backtest_store_record(user=alice, record=record)

    equity = record.equity.to_numpy()
    daily = np.diff(np.r_[record.initial_cash, equity]) / np.r_[record.initial_cash, equity[:-1]]
    sharpe = daily.mean() / daily.std(ddof=1) * np.sqrt(252)  # annualised, risk-free 0, sample std
    fees = 5.0125 + 5.13 + 2.45 + 2.425 + 0.0139 + 0.0067
    pnl_trade_1 = (51.3 - 50.125) * 100 - (5.0125 + 5.13 + 0.0139)
    m = stored.metrics
    assert m["total_return"] == pytest.approx(equity[-1] / record.initial_cash - 1, rel=1e-12)
    assert m["sharpe_ratio"] == pytest.approx(sharpe, rel=1e-9)
    assert m["fees_paid"] == pytest.approx(fees, rel=1e-12)
    assert m["n_trades"] == 2 and m["n_fills"] == 4 and m["n_orders"] == 5
    assert record.trades()["pnl"].iloc[0] == pytest.approx(pnl_trade_1, rel=1e-12)
    assert stored.final_equity == equity[-1]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.floats(min_value=1e-3, max_value=1e12, allow_nan=False), min_size=1, max_size=300),
       start_ns=st.integers(min_value=0, max_value=2**62 // 2), step_minutes=st.sampled_from([1, 5, 60, 1440]))
def test_codec_round_trips_any_float_series_bit_for_bit(values, start_ns, step_minutes):
    index = pd.DatetimeIndex(pd.to_datetime(start_ns + np.arange(len(values)) * step_minutes * 60 * 10**9,
                                            unit="ns", utc=True), name="ts")
    series = pd.Series(values, index=index, name="equity")

    back = codec.series_from_bytes(codec.series_to_bytes(series))

    pd.testing.assert_series_equal(back, series, check_exact=True)
    assert back.to_numpy().tobytes() == series.to_numpy().tobytes()


def test_codec_refuses_naive_index():
    series = pd.Series([1.0, 2.0], index=pd.date_range("2024-01-01", periods=2))
    with pytest.raises(InvalidInput, match="timezone-aware"):
        codec.series_to_bytes(series, what="equity")


def test_store_record_with_sub_microsecond_fill_writes_nothing(alice):
    record = make_record()
    fills = record.fills.copy()
    fills.loc[0, "ts"] = fills.loc[0, "ts"] + pd.Timedelta(nanoseconds=7)
    bad = BacktestRecord(equity=record.equity, fills=fills, orders=record.orders, strategy="x")

    with pytest.raises(InvalidInput, match="sub-microsecond"):
        services.backtest_store_record(user=alice, record=bad)

    assert not models.Backtest.objects.exists() and not models.BacktestFill.objects.exists()


def test_record_of_another_user_is_not_found(alice, bob):
    stored = services.backtest_store_record(user=alice, record=make_record())

    with pytest.raises(NotFoundError, match=f"no backtest {stored.pk}"):
        selectors.backtest_record(user=bob, backtest_id=stored.pk)


def test_compare_rebases_equity_and_lists_metrics(alice):
    first = services.backtest_store_record(user=alice, record=make_record(seed=1), name="a")
    second = services.backtest_store_record(user=alice, record=make_record(seed=2, cash=50_000.0), name="b")

    comparison = services.backtest_compare(user=alice, ids=[first.pk, str(second.pk)])

    assert [row["name"] for row in comparison["backtests"]] == ["a", "b"]
    curve = comparison["equity"][1]
    expected = make_record(seed=2, cash=50_000.0).equity / 50_000.0
    assert curve["value"] == pytest.approx(list(expected), rel=1e-15)
    assert curve["ts"][0] == datetime(2024, 1, 2, tzinfo=UTC).isoformat()


def test_compare_needs_two_of_your_own(alice, bob):
    mine = services.backtest_store_record(user=alice, record=make_record())
    theirs = services.backtest_store_record(user=bob, record=make_record())

    with pytest.raises(InvalidInput, match="at least two"):
        services.backtest_compare(user=alice, ids=[mine.pk])
    with pytest.raises(NotFoundError, match=f"no backtest {theirs.pk}"):
        services.backtest_compare(user=alice, ids=[mine.pk, theirs.pk])


def test_fill_and_order_columns_are_the_standard_ones(alice):
    stored = services.backtest_store_record(user=alice, record=make_record())
    back = selectors.backtest_record(user=alice, backtest_id=stored.pk)
    assert tuple(back.fills.columns) == FILL_COLUMNS and tuple(back.orders.columns) == ORDER_COLUMNS
