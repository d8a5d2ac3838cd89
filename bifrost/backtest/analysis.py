"""The services on a backtest: risk, execution quality and tax, from a :class:`BacktestRecord`.

A backtest - run by the event engine, the fast path, or imported from Backtrader - is read
by the same risk, transaction-cost and tax code as a live portfolio:

* :func:`risk_summary` - VaR and expected shortfall of the strategy's daily returns by
  historical simulation, delta-normal and Cornish-Fisher (:mod:`bifrost.risk.var`),
  drawdowns, and a VaR backtest of rolling one-day-ahead historical VaR against the
  strategy's own returns (Kupiec, Christoffersen, Basel zone).
* :func:`tca_summary` - transaction cost analysis of the fills against the bars
  (:func:`bifrost.execquality.report.tca_report`): slippage against arrival and the other
  benchmarks, implementation shortfall, explicit costs.
* :func:`tax_summary` - tax lots of the fills (:func:`bifrost.compliance.compute_tax_lots`):
  realised gains by term and the wash sales the trading would have caused, with the
  disallowed losses.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from bifrost.backtest.results import BacktestRecord
from bifrost.core.errors import InvalidInput

__all__ = ["risk_summary", "tax_summary", "tca_summary"]


def _daily_returns(record: BacktestRecord) -> pd.Series:
    """Returns per New York trading day (intraday equity is sampled at each day's last bar)."""
    equity = record.equity.astype("float64")
    days = equity.index.tz_convert("America/New_York").normalize()
    closes = equity.groupby(days).last()
    previous = closes.shift(1)
    previous.iloc[0] = record.initial_cash
    return (closes / previous - 1.0).rename("returns")


def risk_summary(record: BacktestRecord, *, confidence: float = 0.99, window: int = 250) -> dict[str, Any]:
    """Risk of the backtest's daily returns (fractions of equity).

    Raises
    ------
    InvalidInput
        Fewer than 30 trading days, or a bad confidence level.
    """
    from bifrost.risk import drawdown_stats, rolling_var_forecasts, var_backtest
    from bifrost.risk.var import cornish_fisher_var, historical_var, parametric_var

    returns = _daily_returns(record)
    if len(returns) < 30:
        raise InvalidInput(f"risk needs at least 30 trading days of returns, the backtest has {len(returns)}")
    values = returns.to_numpy()
    estimates = {}
    for name, method in (("historical", historical_var), ("parametric", parametric_var),
                         ("cornish_fisher", cornish_fisher_var)):
        estimate = method(values, confidence=confidence)
        estimates[name] = {"var": estimate.var, "es": estimate.es}
    stats = drawdown_stats(record.equity.astype("float64"))
    out: dict[str, Any] = {
        "confidence": confidence, "days": len(values), "var": estimates,
        "max_drawdown": float(stats.maximum), "current_drawdown": float(stats.current),
        "max_drawdown_bars": int(stats.maximum_duration),
        "volatility_annual": float(np.std(values, ddof=1) * np.sqrt(252)),
    }
    if len(values) > window + 20:
        forecasts = rolling_var_forecasts(values, window=window, confidence=confidence)
        test = var_backtest(values[window:], forecasts, confidence=confidence)
        out["var_backtest"] = {"observations": test.observations, "exceptions": test.exceptions,
                               "expected_exceptions": test.expected_exceptions, "kupiec_pvalue": test.kupiec_pvalue,
                               "christoffersen_pvalue": test.conditional_coverage_pvalue, "zone": str(test.zone)}
    return out


def tca_summary(record: BacktestRecord, bars: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Transaction costs of the backtest's fills against ``bars`` (symbol → bar frame).

    Raises
    ------
    InvalidInput
        The backtest has no fills, or bars are missing for a traded symbol.
    """
    from bifrost.execquality.report import tca_report

    if record.fills.empty:
        raise InvalidInput("the backtest has no fills to analyse")
    missing = sorted(set(record.fills["symbol"]) - set(bars))
    if missing:
        raise InvalidInput(f"no bars for traded symbols {missing}")
    frames = []
    for symbol, frame in bars.items():
        part = frame[["open", "high", "low", "close", "volume"]].copy()
        part["symbol"] = symbol
        frames.append(part.rename_axis("ts").reset_index())
    report = tca_report(record.fills.copy(), record.orders.copy(), bars=pd.concat(frames, ignore_index=True),
                        group_by=("symbol",))
    return report.to_dict()


def tax_summary(record: BacktestRecord, *, account: str = "backtest", lot_method: str = "fifo") -> dict[str, Any]:
    """Tax lots, realised gains by term and wash sales of the backtest's fills.

    Prices and fees are turned into exact decimals from their shortest float repr, as the
    ledger does.
    """
    from bifrost.compliance import AccountProfile, TaxLotMethod, compute_tax_lots
    from bifrost.compliance.trades import TaxTrade, TradeAction

    trades = []
    position: dict[str, Decimal] = {}
    for fill in record.fills.sort_values("ts", kind="stable").itertuples(index=False):
        quantity = Decimal(repr(float(fill.quantity)))
        held = position.get(fill.symbol, Decimal(0))
        if fill.side == "buy":
            action = TradeAction.BUY_TO_COVER if held < 0 else TradeAction.BUY
            position[fill.symbol] = held + quantity
        else:
            action = TradeAction.SELL if held > 0 else TradeAction.SELL_SHORT
            position[fill.symbol] = held - quantity
        fees = Decimal(repr(float(fill.commission))) + Decimal(repr(float(fill.fees)))
        trades.append(TaxTrade(trade_id=str(fill.fill_id), account=account, ts=fill.ts.to_pydatetime(),
                               symbol=fill.symbol, action=action, quantity=quantity,
                               price=Decimal(repr(float(fill.price))), fees=fees))
    result = compute_tax_lots(trades, accounts={account: AccountProfile(lot_method=TaxLotMethod(lot_method))})
    realised = result.realised()
    return {
        "realised": {k: str(v) for k, v in realised.items()},
        "wash_sales": len(result.wash_sales),
        "disallowed": str(sum((w.disallowed for w in result.wash_sales), Decimal(0))),
        "open_lots": len(result.open_lots),
        "disposals": len(result.disposals),
    }
