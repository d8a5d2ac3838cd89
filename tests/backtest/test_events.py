"""The event-driven engine: reference results, look-ahead, multi-timeframe, timers, errors."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pandas as pd
import pytest

from bifrost.backtest import LookAheadError, Strategy, run
from bifrost.core.calendars import get_calendar
from bifrost.core.errors import InvalidInput
from bifrost.marketdata.synthetic import generate_bars, generate_market


@pytest.fixture(scope="module")
def daily():
    return generate_bars(start=date(2016, 1, 1), end=date(2020, 12, 31), timeframe="1d", seed=11)


@pytest.fixture(scope="module")
def hourly():
    return generate_bars(start=date(2020, 1, 1), end=date(2020, 6, 30), timeframe="1h", seed=5)


def _cents(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), ROUND_HALF_EVEN)


def test_sma_crossover_matches_an_independent_pandas_reference(daily):
    record = run("sma_crossover", {"ACME": daily}, params={"fast": 10, "slow": 30, "quantity": 100},
                 commission_bps=10, cash=100_000)

    close = daily["close"]
    fast, slow = close.rolling(10).mean(), close.rolling(30).mean()
    up = (fast.shift(1) <= slow.shift(1)) & (fast > slow)
    down = (fast.shift(1) >= slow.shift(1)) & (fast < slow)
    opens = daily["open"].to_numpy()
    cash, held, expected = Decimal(100_000), 0, []
    for i in range(len(daily) - 1):  # a signal on the last bar has no next open to fill at
        side = "buy" if up.iloc[i] and held == 0 else "sell" if down.iloc[i] and held > 0 else None
        if side is None:
            continue
        price = Decimal(repr(round(float(opens[i + 1]), 6)))
        notional = _cents(price * 100)
        fee = _cents(notional * Decimal("0.001"))
        cash += -notional - fee if side == "buy" else notional - fee
        held += 100 if side == "buy" else -100
        expected.append((daily.index[i + 1].date(), side, float(price), float(fee)))
    got = [(ts.date(), side, price, fee) for ts, side, price, fee in
           record.fills[["ts", "side", "price", "commission"]].itertuples(index=False)]
    assert got == expected
    final = float(cash) + held * float(close.iloc[-1])
    assert record.final_equity == pytest.approx(final, abs=1e-6)
    assert len(record.trades()) == sum(1 for e in expected if e[1] == "sell")


def test_same_inputs_give_identical_results(daily):
    a = run("macd_trend", {"ACME": daily}, commission_bps=5)
    b = run("macd_trend", {"ACME": daily}, commission_bps=5)
    pd.testing.assert_frame_equal(a.fills, b.fills)
    pd.testing.assert_series_equal(a.equity, b.equity)


class _Peek(Strategy):
    """Records what it can see, and tries to read one bar ahead."""

    def on_start(self, ctx):
        self.sma = ctx.indicator("sma", period=3)
        self.seen = []
        self.errors = 0

    def on_bar(self, ctx, bar):
        self.seen.append((bar.end, ctx.now, bar.close, ctx.history("close")[-1], len(ctx.history("close"))))
        try:
            self.sma[1]
        except LookAheadError:
            self.errors += 1


def test_a_bar_is_visible_only_after_it_closes(daily):
    strategy = _Peek()
    run(strategy, {"ACME": daily.iloc[:50]})
    assert strategy.errors == 50
    cal = get_calendar("XNYS")
    for k, (end, now, close, last, n) in enumerate(strategy.seen):
        session = daily.index[k].tz_localize(None)
        assert end == cal.session_close(session)  # the daily bar is shown at its session close
        assert now == end and close == last == daily["close"].iloc[k] and n == k + 1


class _TwoTimeframes(Strategy):
    def on_start(self, ctx):
        self.daily = ctx.subscribe("ACME", "1d")
        self.hour = ctx.data("ACME")
        self.views = []

    def on_bar(self, ctx, bar):
        if bar.timeframe.value == "1h":
            self.views.append((bar.end, self.daily.i, self.daily.end_ns[self.daily.i] if self.daily.i >= 0 else None))


def test_daily_subscription_shows_only_closed_sessions_to_hourly_bars(hourly):
    strategy = _TwoTimeframes()
    run(strategy, {"ACME": hourly}, timeframe="1h")
    daily = strategy.daily
    # independent: the daily bar of a session closes at that session's close
    cal = get_calendar("XNYS")
    sessions = pd.DatetimeIndex(hourly.index.tz_convert("America/New_York").normalize().tz_localize(None).unique())
    closes = [cal.session_close(s) for s in sessions]
    assert [pd.Timestamp(e, tz="UTC") for e in daily.end_ns] == closes
    for end, index, daily_end in strategy.views:
        visible = [c for c in closes if c <= end]
        assert index == len(visible) - 1
        if visible:
            assert pd.Timestamp(daily_end, tz="UTC") == visible[-1] <= end


def test_multi_timeframe_example_runs_and_trades_only_in_daily_uptrends(hourly):
    record = run("mtf_trend_pullback", {"ACME": hourly}, timeframe="1h", params={"trend_period": 10})
    assert len(record.fills) > 0
    daily = hourly.resample("1D").agg({"close": "last"}).dropna()  # UTC days equal NY sessions for RTH bars
    trend = daily["close"].rolling(10).mean()
    for ts in record.fills.loc[record.fills.side == "buy", "ts"]:
        before = daily.index[daily.index < ts.normalize()]
        assert len(before) and daily["close"].loc[before[-1]] > trend.loc[before[-1]]


class _Timers(Strategy):
    def on_start(self, ctx):
        ctx.schedule("eom", "month_end")
        ctx.schedule("bom", "month_start")
        self.fired = []

    def on_timer(self, ctx, name):
        self.fired.append((name, ctx.now))


def test_month_timers_fire_at_the_first_and_last_session_of_each_month(daily):
    strategy = _Timers()
    bars = daily.loc["2019-01-01":"2019-06-30"]
    run(strategy, {"ACME": bars})
    cal = get_calendar("XNYS")
    sessions = cal.sessions_in_range("2019-01-01", "2019-06-30")
    months = pd.Series(sessions, index=sessions).groupby([sessions.year, sessions.month])
    assert [t for n, t in strategy.fired if n == "eom"] == [cal.session_close(g.iloc[-1]) for _, g in months]
    assert [t for n, t in strategy.fired if n == "bom"] == [cal.session_close(g.iloc[0]) for _, g in months]


def test_momentum_rotation_holds_the_top_names_by_independent_momentum():
    data = dict(generate_market(symbols=8, start=date(2018, 1, 1), end=date(2020, 12, 31), seed=4).bars)
    record = run("momentum_rotation", data, params={"lookback": 126, "skip": 21, "top_n": 3}, cash=1_000_000)
    closes = pd.DataFrame({s: f["close"] for s, f in data.items()})
    months = closes.groupby([closes.index.year, closes.index.month]).tail(1).index
    checked = 0
    for month_end in months[7:-1]:
        i = closes.index.get_loc(month_end)
        score = closes.iloc[i - 21] / closes.iloc[i - 126] - 1
        chosen = set(score[score > 0].sort_values(ascending=False).index[:3])
        fills_next = record.fills[record.fills.ts.dt.date == closes.index[i + 1].date()]
        held = record.positions.iloc[i + 1]
        assert set(held[held > 0].index) == chosen, (month_end, fills_next)
        checked += 1
    assert checked > 20


class _Scripted(Strategy):
    """Sends a fixed script of orders, to drive every order type through the broker."""

    params = {"script": ""}

    def on_start(self, ctx):
        self.events = []

    def on_bar(self, ctx, bar):
        i = bar.index
        close = bar.close
        if i == 5:
            ctx.buy("ACME", 10)
            ctx.buy("ACME", 5, type="limit", limit=round(close * 0.98, 2))
            ctx.buy("ACME", 5, type="stop", stop=round(close * 1.02, 2))
        if i == 20:
            ctx.bracket("ACME", 7, stop_loss=round(close * 0.95, 2), take_profit=round(close * 1.05, 2))
        if i == 40:
            ctx.sell("ACME", 3, type="trailing_stop", trail_percent=2.0)
            ctx.sell("ACME", 2, type="stop_limit", stop=round(close * 0.99, 2), limit=round(close * 0.985, 2))
            ctx.buy("ACME", 4, type="limit", limit=round(close * 0.9, 2), tif="day")
            ctx.buy("ACME", 4, type="limit", limit=round(close * 0.9, 2), tif="ioc")
        if i == 60:
            ctx.buy("ACME", 3, tif="opg")
            ctx.sell("ACME", 2, type="limit", limit=round(close * 0.5, 2), tif="cls")
            ctx.buy("ACME", 1, type="limit", limit=round(close * 0.5, 2), tif="opg")  # not marketable: expires

    def on_order(self, ctx, event):
        self.events.append((event.order_id, event.kind))


@pytest.mark.parametrize("name", ["sma_crossover", "bollinger_reversion", "macd_trend", "rsi_atr_reversal", "scripted"])
def test_simulated_broker_matches_the_trading_core_fill_for_fill(daily, name):
    data = {"ACME": daily.iloc[:400]}
    if name == "scripted":
        sim_strategy, core_strategy = _Scripted(), _Scripted()
        sim = run(sim_strategy, data, commission_bps=10)
        core = run(core_strategy, data, commission_bps=10, broker="core")
        assert sim_strategy.events == core_strategy.events
        auction = sim.orders.set_index("order_id").loc[["o-9", "o-10", "o-11"], "status"].tolist()
        assert auction == ["filled", "filled", "expired"]  # OPG and CLS fill in the auctions; a far limit expires
    else:
        sim = run(name, data, commission_bps=10)
        core = run(name, data, commission_bps=10, broker="core")
    assert len(sim.fills) > 0
    columns = ["ts", "symbol", "side", "quantity", "price", "commission", "fees", "order_id"]
    pd.testing.assert_frame_equal(sim.fills[columns], core.fills[columns])
    assert list(sim.orders.status) == list(core.orders.status)
    np.testing.assert_allclose(sim.equity.to_numpy(), core.equity.to_numpy(), rtol=0, atol=1e-6)
    # the core's Decimal ledger agrees with the simulated account to the cent
    held = core.ledger.positions()
    last = float(daily["close"].iloc[399])
    nav = float(core.ledger.cash()) + sum(float(p.quantity) * last for p in held.values())
    assert sim.final_equity == pytest.approx(nav, abs=0.005)


def test_orders_that_cannot_be_paid_for_are_refused_and_reported(daily):
    class Greedy(Strategy):
        def on_start(self, ctx):
            self.kinds = []

        def on_bar(self, ctx, bar):
            if bar.index == 3:
                ctx.buy("ACME", 1_000_000)

        def on_order(self, ctx, event):
            self.kinds.append((event.kind, event.reason))

    strategy = Greedy()
    record = run(strategy, {"ACME": daily.iloc[:10]})
    assert strategy.kinds[0][0] == "rejected" and "insufficient cash" in strategy.kinds[0][1]
    assert list(record.orders.status) == ["rejected"] and record.fills.empty


@pytest.mark.parametrize("call, message", [
    (lambda d: run("nope", d), "unknown strategy"),
    (lambda d: run("sma_crossover", d, params={"fastest": 3}), "no parameter"),
    (lambda d: run("sma_crossover", d, params={"fast": "ten"}), "must be an integer"),
    (lambda d: run("sma_crossover", d, params={"fast": 30, "slow": 10}), "fast period must be below"),
    (lambda d: run("sma_crossover", d, commission_bps=5, fee_model=object()), "not both"),
    (lambda d: run("sma_crossover", d, cash=-5), "cash must be positive"),
    (lambda d: run("sma_crossover", d, broker="ib"), "unknown broker"),
    (lambda d: run("sma_crossover", {}), "at least one symbol"),
])
def test_bad_input_is_refused_with_a_clear_message(daily, call, message):
    with pytest.raises(InvalidInput, match=message):
        call({"ACME": daily.iloc[:60]})


def test_bars_off_the_calendar_and_bad_orders_are_refused(daily):
    shifted = daily.iloc[:10].copy()
    shifted.index = shifted.index + pd.Timedelta(days=1) * np.arange(1, 11)
    with pytest.raises(InvalidInput, match="not a XNYS session"):
        run("sma_crossover", {"ACME": shifted})

    class Bad(Strategy):
        params = {"what": ""}

        def on_bar(self, ctx, bar):
            if self.p.what == "negative":
                ctx.buy("ACME", -5)
            elif self.p.what == "symbol":
                ctx.buy("ZZZZ", 5)
            elif self.p.what == "limit":
                ctx.buy("ACME", 5, type="limit")

    for what, message in [("negative", "must be positive"), ("symbol", "unknown symbol ZZZZ"),
                          ("limit", "needs a positive limit")]:
        with pytest.raises(InvalidInput, match=message):
            run(Bad(what=what), {"ACME": daily.iloc[:5]})


def test_record_reports_metrics_and_round_trips(daily):
    record = run("sma_crossover", {"ACME": daily}, commission_bps=10)
    report = record.report()
    trades = record.trades()
    assert report.n_trades == len(trades) > 0
    assert report.fees_paid == pytest.approx(record.fees_paid())
    returns = record.equity.pct_change()
    returns.iloc[0] = record.equity.iloc[0] / record.initial_cash - 1
    assert report.total_return == pytest.approx(record.final_equity / record.initial_cash - 1)
    np.testing.assert_allclose(record.returns().to_numpy(), returns.to_numpy())
    pnl = trades["pnl"].sum()
    flat_at_end = record.positions is None or record.positions.iloc[-1].abs().sum() == 0
    assert flat_at_end
    # round trips price notional exactly; the account books each fill's notional to the cent
    assert pnl == pytest.approx(record.final_equity - record.initial_cash, abs=0.005 * len(record.fills))


class _BuyAndHold(Strategy):
    params = {"shares": 100}

    def on_bar(self, ctx, bar):
        if bar.index == 0:
            ctx.buy(bar.symbol, self.p.shares)
        if bar.index == 1:  # a resting limit far below: a split must cancel it
            ctx.sell(bar.symbol, 10, type="limit", limit=round(bar.close * 3, 2))


def _unadjusted_with_split(daily):
    bars = daily.iloc[:60].copy()
    split_at = bars.index[30]
    bars.loc[bars.index >= split_at, ["open", "high", "low", "close"]] /= 2.0  # a 2-for-1 split
    bars.loc[bars.index >= split_at, "volume"] *= 2.0
    return bars, split_at


@pytest.mark.parametrize("broker", ["sim", "core"])
def test_splits_and_dividends_on_unadjusted_bars(daily, broker):
    from bifrost.marketdata.types import ActionKind, CorporateAction

    bars, split_at = _unadjusted_with_split(daily)
    dividend_at = bars.index[45]
    actions = [CorporateAction(symbol="ACME", ex_date=split_at.date(), kind=ActionKind.SPLIT, value=Decimal(2)),
               CorporateAction(symbol="ACME", ex_date=dividend_at.date(), kind=ActionKind.DIVIDEND,
                               value=Decimal("0.37"))]
    record = run(_BuyAndHold(), {"ACME": bars}, actions=actions, broker=broker)
    buy_price = round(float(bars["open"].iloc[1]), 6)
    expected = 100_000 - _cents(Decimal(repr(buy_price)) * 100) + Decimal("0.37") * 200
    expected = float(expected) + 200 * float(bars["close"].iloc[-1])
    assert record.final_equity == pytest.approx(expected, abs=1e-6)
    # held 100 before the split and 200 from its ex-date on
    shares = record.positions["ACME"] / record.prices["ACME"]
    assert shares.iloc[29] == pytest.approx(100) and shares.iloc[30] == pytest.approx(200)
    assert record.orders.set_index("order_id").loc["o-2", "status"] == "cancelled"
    # equity does not jump on the ex-date: the split only relabels the position
    jump = record.equity.iloc[30] - record.equity.iloc[29]
    assert abs(jump - 200 * bars["close"].iloc[30] + 100 * bars["close"].iloc[29]) < 1e-6
    if broker == "core":
        assert record.ledger.position("ACME").quantity == 200


def test_an_action_for_a_symbol_without_bars_is_refused(daily):
    from bifrost.marketdata.types import ActionKind, CorporateAction

    action = CorporateAction(symbol="ZZZ", ex_date=date(2016, 3, 1), kind=ActionKind.SPLIT, value=Decimal(2))
    with pytest.raises(InvalidInput, match="ZZZ, which has no bars"):
        run("sma_crossover", {"ACME": daily}, actions=[action])


def test_dividends_reach_a_timer_only_strategy_between_rebalances():
    from bifrost.marketdata.types import ActionKind, CorporateAction

    data = dict(generate_market(symbols=4, start=date(2019, 1, 1), end=date(2020, 12, 31), seed=9).bars)
    params = {"lookback": 60, "skip": 5, "top_n": 2}
    plain = run("momentum_rotation", data, params=params)
    held = plain.positions / plain.prices[plain.positions.columns]
    ex_day = held.index[300]
    symbol = held.loc[ex_day][held.loc[ex_day] > 0].index[0]
    shares = held.loc[ex_day, symbol]
    action = CorporateAction(symbol=symbol, ex_date=ex_day.date(), kind=ActionKind.DIVIDEND, value=Decimal("1.25"))
    paid = run("momentum_rotation", data, params=params, actions=[action])
    # same trades until the dividend lands; afterwards the extra cash can change sizes, so compare the day itself
    assert paid.equity.loc[ex_day] - plain.equity.loc[ex_day] == pytest.approx(1.25 * shares, abs=0.006)
    assert (paid.equity.iloc[:300] == plain.equity.iloc[:300]).all()
