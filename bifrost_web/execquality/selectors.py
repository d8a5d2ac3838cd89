"""Read-only execution-quality queries, scoped to the requesting user, and the ORM-to-frame adapters."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from django.db.models import QuerySet

from bifrost.core.errors import BifrostError, NotFoundError
from bifrost.execquality import ImpactModel, daily_statistics
from bifrost_web.execquality import models
from bifrost_web.trading import models as trading_models
from bifrost_web.trading import selectors as trading_selectors

ALGO_TAG_PREFIX = "algo:"


def portfolio_get(*, user, portfolio_id: int) -> trading_models.Portfolio:
    return trading_selectors.portfolio_get(user=user, portfolio_id=portfolio_id)


def tca_reports_for(*, portfolio: trading_models.Portfolio) -> QuerySet[models.TCAReport]:
    return portfolio.tca_reports.all()


def tca_report_get(*, user, portfolio_id: int, report_id: int) -> models.TCAReport:
    portfolio = portfolio_get(user=user, portfolio_id=portfolio_id)
    report = portfolio.tca_reports.filter(pk=report_id).first()
    if report is None:
        raise NotFoundError(f"TCA report {report_id} not found in portfolio {portfolio_id}")
    return report


def calibrations_for(*, portfolio: trading_models.Portfolio) -> QuerySet[models.ImpactCalibration]:
    return portfolio.impact_calibrations.all()


def impact_model_for(*, portfolio: trading_models.Portfolio) -> ImpactModel:
    """The latest calibration of the portfolio, or the default model."""
    latest = portfolio.impact_calibrations.order_by("-created_at", "-id").first()
    if latest is None:
        return ImpactModel()
    return ImpactModel(temporary=latest.temporary, permanent=latest.permanent, square_root=latest.square_root,
                       source=f"calibration {latest.pk}")


def venues_for(*, user) -> QuerySet[models.VenueConfig]:
    return models.VenueConfig.objects.filter(owner=user)


def algo_orders_for(*, portfolio: trading_models.Portfolio) -> QuerySet[models.AlgoOrder]:
    return portfolio.algo_orders.all()


def algo_order_get(*, user, portfolio_id: int, parent_id: str) -> models.AlgoOrder:
    portfolio = portfolio_get(user=user, portfolio_id=portfolio_id)
    row = portfolio.algo_orders.filter(parent_id=parent_id).first()
    if row is None:
        raise NotFoundError(f"algorithm order {parent_id} not found in portfolio {portfolio_id}")
    return row


def _parent_of(tag: str, client_order_id: str) -> str:
    if tag.startswith(ALGO_TAG_PREFIX):
        return tag[len(ALGO_TAG_PREFIX):]
    return client_order_id


def fills_frame(*, portfolio: trading_models.Portfolio, start: datetime | None = None,
                end: datetime | None = None) -> pd.DataFrame:
    """The portfolio's fills as a TCA fills frame (``ts, symbol, side, quantity, price, ...``)."""
    qs = portfolio.fills.select_related("order").order_by("ts_event", "id")
    if start is not None:
        qs = qs.filter(ts_event__gte=start)
    if end is not None:
        qs = qs.filter(ts_event__lt=end)
    rows = [{"ts": f.ts_event, "symbol": f.symbol, "side": f.side, "quantity": f.quantity, "price": f.price,
             "commission": f.commission, "fees": f.fees, "order_id": f.order.client_order_id,
             "fill_id": f.fill_id, "venue": f.venue, "liquidity": f.liquidity, "broker": portfolio.broker}
            for f in qs]
    return pd.DataFrame(rows, columns=["ts", "symbol", "side", "quantity", "price", "commission", "fees", "order_id",
                                       "fill_id", "venue", "liquidity", "broker"])


def orders_frame(*, portfolio: trading_models.Portfolio, client_order_ids: list[str]) -> pd.DataFrame:
    """Orders of those ids as a TCA orders frame; algorithm children name their parent; parents are added."""
    rows = []
    parents: dict[str, dict] = {}
    algo_rows = {a.parent_id: a for a in portfolio.algo_orders.all()}
    for order in portfolio.orders.filter(client_order_id__in=client_order_ids).prefetch_related("events"):
        submitted = next((e.ts_event for e in order.events.all() if e.kind == "submitted"), order.created_at)
        parent = _parent_of(order.tag, order.client_order_id)
        rows.append({"order_id": order.client_order_id, "ts_submitted": submitted, "symbol": order.symbol,
                     "side": order.side, "order_type": order.order_type, "quantity": order.quantity,
                     "limit_price": order.limit_price, "status": order.status, "parent_id": parent,
                     "strategy": order.tag.split(":")[0] if order.tag else "manual", "broker": portfolio.broker})
        if parent != order.client_order_id and parent in algo_rows and parent not in parents:
            algo = algo_rows[parent]
            parents[parent] = {"order_id": parent, "ts_submitted": algo.start, "symbol": algo.symbol,
                               "side": algo.side, "order_type": algo.algo, "quantity": algo.quantity,
                               "limit_price": algo.limit_price, "status": algo.state, "parent_id": parent,
                               "strategy": f"algo-{algo.algo}", "broker": portfolio.broker}
    return pd.DataFrame(rows + list(parents.values()))


def bars_frame(*, symbols: list[str], start: datetime | None, end: datetime | None) -> pd.DataFrame:
    """Stored bars of the symbols (the finest of 1m and 1d that exists), long format, for TCA."""
    from bifrost_web.marketdata.selectors import bars_read

    frames = []
    for symbol in sorted(set(symbols)):
        for timeframe in ("1m", "1d"):
            try:
                bars = bars_read(symbol=symbol, timeframe=timeframe, start=start, end=end)
            except BifrostError:
                continue
            if len(bars):
                frame = bars.reset_index()
                frame = frame.rename(columns={frame.columns[0]: "ts"})
                frame["symbol"] = symbol
                frames.append(frame[["ts", "symbol", "open", "high", "low", "close", "volume"]])
                break
    if not frames:
        return pd.DataFrame(columns=["ts", "symbol", "open", "high", "low", "close", "volume"])
    return pd.concat(frames, ignore_index=True)


def statistics_frame(*, symbols: list[str], end: datetime | None = None, lookback_sessions: int = 20) -> pd.DataFrame:
    """ADV and daily volatility per symbol from stored daily bars (empty when none are stored)."""
    from bifrost_web.marketdata.selectors import bars_read

    frames = []
    for symbol in sorted(set(symbols)):
        try:
            bars = bars_read(symbol=symbol, timeframe="1d", end=end)
        except BifrostError:
            continue
        if len(bars) >= 3:
            frame = bars.reset_index()
            frame = frame.rename(columns={frame.columns[0]: "ts"})
            frame["symbol"] = symbol
            frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["adv", "sigma_daily", "last_close", "sessions"])
    return daily_statistics(pd.concat(frames, ignore_index=True), lookback_sessions=lookback_sessions)
