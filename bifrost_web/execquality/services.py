"""Execution-quality use cases: TCA reports, impact recalibration, recommendations, routing, algo orders.

Every service takes ``user=`` (or an id re-fetched by a task) and checks ownership through the
portfolio selector; writes happen in one transaction; long work goes to Celery on commit.
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal

import pandas as pd
from django.db import transaction
from django.utils import timezone

from bifrost.core.errors import (
    BifrostError,
    InvalidInput,
    NotFoundError,
    OrderRejected,
    StateConflict,
)
from bifrost.core.money import decimal_from_float, to_decimal
from bifrost.core.time import Clock, WallClock
from bifrost.execquality import (
    AlmgrenChrissParams,
    OrderProfile,
    ParentOrder,
    Recommendation,
    VenueProfile,
    VenueQuote,
    calibrate_impact,
    efficient_frontier,
    impact_observations,
    make_algo,
    optimal_trajectory,
    prepare,
    recommend,
    route_order,
    tca_report,
)
from bifrost.execquality.algos import MarketState
from bifrost.execquality.report import TCAReport as DomainReport
from bifrost.orders.types import OrderRequest, OrderType, TimeInForce
from bifrost_web.execquality import models, selectors

ALGOS = ("twap", "vwap", "pov", "is", "iceberg", "peg")


def _json_safe(value):
    # JSON has no NaN or infinity: store them as null
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# ---------------------------------------------------------------------------- TCA


def _report_inputs(portfolio, start: datetime | None, end: datetime | None):
    fills = selectors.fills_frame(portfolio=portfolio, start=start, end=end)
    if fills.empty:
        raise InvalidInput(f"portfolio {portfolio.pk} has no fills in the period; nothing to analyse")
    orders = selectors.orders_frame(portfolio=portfolio, client_order_ids=sorted(set(fills["order_id"])))
    symbols = sorted(set(fills["symbol"]))
    first = pd.Timestamp(fills["ts"].min()) - pd.Timedelta(days=7)
    last = pd.Timestamp(fills["ts"].max()) + pd.Timedelta(days=2)
    bars = selectors.bars_frame(symbols=symbols, start=first.to_pydatetime(), end=last.to_pydatetime())
    stats = selectors.statistics_frame(symbols=symbols, end=last.to_pydatetime())
    inputs = prepare(fills, orders, bars=bars if len(bars) else None)
    return inputs, stats


def tca_compute(*, user, portfolio_id: int, start: datetime | None = None, end: datetime | None = None,
                group_by: list[str] | None = None) -> DomainReport:
    """Run TCA now over the portfolio's fills (used by the HTML/PDF exports and the CLI).

    Raises
    ------
    InvalidInput
        When there are no fills in the period.
    """
    portfolio = selectors.portfolio_get(user=user, portfolio_id=portfolio_id)
    inputs, stats = _report_inputs(portfolio, start, end)
    return tca_report(inputs, statistics=stats if len(stats) else None,
                      model=selectors.impact_model_for(portfolio=portfolio),
                      group_by=tuple(group_by or ("strategy", "broker")),
                      title=f"Transaction cost analysis: {portfolio.name}")


def tca_report_request(*, user, portfolio_id: int, start: datetime | None = None, end: datetime | None = None,
                       group_by: list[str] | None = None) -> models.TCAReport:
    """Create a pending TCA report and queue its computation once the transaction commits."""
    if start is not None and end is not None and start >= end:
        raise InvalidInput(f"start must be before end, were {start.isoformat()} and {end.isoformat()}")
    allowed = {"strategy", "broker", "venue", "symbol", "side", "order_type"}
    bad = [g for g in (group_by or []) if g not in allowed]
    if bad:
        raise InvalidInput(f"group_by accepts {', '.join(sorted(allowed))}; got {', '.join(bad)}")
    portfolio = selectors.portfolio_get(user=user, portfolio_id=portfolio_id)
    from bifrost_web.execquality import tasks

    with transaction.atomic():
        report = models.TCAReport.objects.create(portfolio=portfolio, start=start, end=end,
                                                 group_by=list(group_by or ["strategy", "broker"]))
        transaction.on_commit(lambda: tasks.tca_report_run.delay(report.pk))
    return report


def tca_report_run(*, report_id: int) -> models.TCAReport:
    """Compute a queued report (idempotent: a finished report is returned unchanged)."""
    report = models.TCAReport.objects.select_related("portfolio", "portfolio__owner").get(pk=report_id)
    if report.status == models.TCAReport.Status.DONE:
        return report
    models.TCAReport.objects.filter(pk=report_id).update(status=models.TCAReport.Status.RUNNING)
    try:
        result = tca_compute(user=report.portfolio.owner, portfolio_id=report.portfolio_id, start=report.start,
                             end=report.end, group_by=report.group_by)
    except BifrostError as exc:
        report.status, report.error = models.TCAReport.Status.FAILED, exc.message
        report.finished_at = timezone.now()
        report.save(update_fields=["status", "error", "finished_at"])
        return report
    data = _json_safe(result.to_dict())
    report.summary = data["summary"]
    report.result = data
    report.status = models.TCAReport.Status.DONE
    report.error = ""
    report.finished_at = timezone.now()
    report.save(update_fields=["summary", "result", "status", "error", "finished_at"])
    return report


# ---------------------------------------------------------------------------- impact


def impact_recalibrate(*, user=None, portfolio_id: int, min_observations: int = 5) -> models.ImpactCalibration:
    """Fit the impact model from the portfolio's own filled orders and store it.

    Raises
    ------
    InvalidInput
        When there are too few filled orders with market statistics (ADV, volatility).
    """
    if user is None:
        from bifrost_web.trading.models import Portfolio

        portfolio = Portfolio.objects.filter(pk=portfolio_id).first()
        if portfolio is None:
            raise NotFoundError(f"portfolio {portfolio_id} not found")
    else:
        portfolio = selectors.portfolio_get(user=user, portfolio_id=portfolio_id)
    inputs, stats = _report_inputs(portfolio, None, None)
    if stats.empty:
        raise InvalidInput("impact calibration needs stored daily bars of the traded symbols (ADV, volatility)")
    daily = inputs.bars is not None and (inputs.bars.frame["bar_end"] - inputs.bars.frame["ts"]).min() >= pd.Timedelta(
        hours=6)
    # the post-trade move is read 30 minutes after the last fill, or one session later on daily bars
    observations = impact_observations(inputs, stats, permanent_horizon_s=86_400.0 if daily else 1800.0)
    result = calibrate_impact(observations, source=f"portfolio {portfolio.pk}", min_observations=min_observations)
    details = _json_safe({k: v for k, v in result.to_dict().items() if k != "model"})
    return models.ImpactCalibration.objects.create(
        portfolio=portfolio, temporary=result.model.temporary, permanent=result.model.permanent,
        square_root=result.model.square_root, observations=result.observations,
        exponent=result.exponent if math.isfinite(result.exponent) else None, details=details)


# ---------------------------------------------------------------------------- selection and schedules


def _profile(portfolio, *, symbol: str, side: str, quantity: float, urgency: str, minutes_to_close: float | None,
             adv: float | None, sigma_daily: float | None, price: float | None, spread_bps: float,
             now: datetime, passive_fill_rate: float = 0.0, adverse_selection_bps: float = 0.0) -> OrderProfile:
    stats = selectors.statistics_frame(symbols=[symbol.upper()], end=now)
    row = stats.loc[symbol.upper()] if symbol.upper() in stats.index else None
    adv = adv or (float(row["adv"]) if row is not None else None)
    sigma_daily = sigma_daily or (float(row["sigma_daily"]) if row is not None else None)
    price = price or (float(row["last_close"]) if row is not None else None)
    if not adv or not sigma_daily or not price or not all(math.isfinite(x) for x in (adv, sigma_daily, price)):
        raise InvalidInput(f"no stored daily bars for {symbol.upper()}: pass adv, sigma_daily and price")
    if minutes_to_close is None:
        from bifrost.core.calendars import get_calendar

        cal = get_calendar("XNYS")
        stamp = pd.Timestamp(now)
        minutes_to_close = 390.0
        if cal.is_open_on_minute(stamp):
            close = cal.session_close(cal.minute_to_session(stamp))
            minutes_to_close = max((close - stamp).total_seconds() / 60.0, 1.0)
    return OrderProfile(symbol=symbol.upper(), side=side, quantity=float(quantity), price=price, adv=adv,
                        sigma_daily=sigma_daily, spread_bps=spread_bps, urgency=urgency,
                        minutes_to_close=float(minutes_to_close), passive_fill_rate=passive_fill_rate,
                        adverse_selection_bps=adverse_selection_bps)


def recommendation_for(*, user, portfolio_id: int, symbol: str, side: str, quantity: float, urgency: str = "medium",
                       minutes_to_close: float | None = None, adv: float | None = None,
                       sigma_daily: float | None = None, price: float | None = None, spread_bps: float = 5.0,
                       passive_fill_rate: float = 0.0, adverse_selection_bps: float = 0.0,
                       clock: Clock | None = None) -> Recommendation:
    """Recommend an algorithm for an order with the portfolio's latest impact calibration.

    With a passive fill rate and adverse selection (from the user's TCA of resting orders), the
    candidates include working passively at the touch, scored by the spread it saves.
    """
    portfolio = selectors.portfolio_get(user=user, portfolio_id=portfolio_id)
    now = (clock or WallClock()).now()
    profile = _profile(portfolio, symbol=symbol, side=side, quantity=quantity, urgency=urgency,
                       minutes_to_close=minutes_to_close, adv=adv, sigma_daily=sigma_daily, price=price,
                       spread_bps=spread_bps, now=now, passive_fill_rate=passive_fill_rate,
                       adverse_selection_bps=adverse_selection_bps)
    return recommend(profile, selectors.impact_model_for(portfolio=portfolio))


def schedule_for(*, shares: float, horizon_days: float, periods: int, sigma: float, eta: float, gamma: float = 0.0,
                 epsilon: float = 0.0, risk_aversion: float = 0.0, frontier_points: int = 0) -> dict:
    """The Almgren-Chriss trajectory (and optionally the efficient frontier) as JSON-ready data."""
    params = AlmgrenChrissParams(shares=shares, horizon_days=horizon_days, periods=periods, sigma=sigma, eta=eta,
                                 gamma=gamma, epsilon=epsilon, risk_aversion=risk_aversion)
    schedule = optimal_trajectory(params)
    data: dict[str, object] = {
        "kappa": schedule.kappa, "kappa_tilde": schedule.kappa_tilde,
        "half_life_days": None if math.isinf(schedule.half_life_days) else schedule.half_life_days,
        "expected_cost": schedule.expected_cost, "variance": schedule.variance, "std": schedule.std,
        "times_days": schedule.times_days.tolist(), "holdings": schedule.holdings.tolist(),
        "trades": schedule.trades.tolist()}
    if frontier_points:
        top = max(risk_aversion, 1e-9) * 100
        lambdas = [0.0] + [top * 10 ** (-k / 2) for k in range(frontier_points - 1)][::-1]
        data["frontier"] = [{"risk_aversion": s.risk_aversion, "expected_cost": s.expected_cost,
                             "variance": s.variance} for s in efficient_frontier(params, lambdas)]
    return data


# ---------------------------------------------------------------------------- venues and routing


def venue_create(*, user, name: str, taker_fee_per_share: Decimal | str, maker_rebate_per_share: Decimal | str,
                 latency_ms: float = 1.0, fill_probability: float = 1.0) -> models.VenueConfig:
    """Store a simulated venue for the user (validated by the domain's VenueProfile)."""
    VenueProfile(name=name, taker_fee_per_share=float(taker_fee_per_share),
                 maker_rebate_per_share=float(maker_rebate_per_share), latency_ms=latency_ms,
                 fill_probability=fill_probability)
    if models.VenueConfig.objects.filter(owner=user, name=name).exists():
        raise StateConflict(f"venue {name!r} already exists")
    return models.VenueConfig.objects.create(owner=user, name=name, taker_fee_per_share=taker_fee_per_share,
                                             maker_rebate_per_share=maker_rebate_per_share, latency_ms=latency_ms,
                                             fill_probability=fill_probability)


def venue_profiles(*, user) -> list[VenueProfile]:
    from bifrost.execquality import demo_venues

    rows = list(selectors.venues_for(user=user))
    if not rows:
        return demo_venues()
    return [VenueProfile(name=v.name, taker_fee_per_share=float(v.taker_fee_per_share),
                         maker_rebate_per_share=float(v.maker_rebate_per_share), latency_ms=v.latency_ms,
                         fill_probability=v.fill_probability) for v in rows]


def route_preview(*, user, side: str, quantity: float, quotes: list[dict], limit_price: float | None = None,
                  latency_cost_per_ms: float = 0.0) -> dict:
    """Split an order across the user's venues (the demo venues when none are configured)."""
    venue_quotes = [VenueQuote(**q) for q in quotes]
    plan = route_order(side=side, quantity=quantity, venues=venue_profiles(user=user), quotes=venue_quotes,
                       limit_price=limit_price, latency_cost_per_ms=latency_cost_per_ms)
    return plan.to_dict()


# ---------------------------------------------------------------------------- algorithm orders


def algo_order_create(*, user, portfolio_id: int, parent_id: str, symbol: str, side: str, quantity: Decimal | str,
                      algo: str, start: datetime, end: datetime, params: dict | None = None,
                      limit_price: Decimal | str | None = None, max_participation: float | None = None,
                      on_kill_switch: str = "cancel") -> models.AlgoOrder:
    """Store a parent order to be worked by an algorithm (validated by the domain's ParentOrder)."""
    portfolio = selectors.portfolio_get(user=user, portfolio_id=portfolio_id)
    if algo not in ALGOS:
        raise InvalidInput(f"algo must be one of {', '.join(ALGOS)}, was {algo!r}")
    parent = ParentOrder(parent_id=parent_id, symbol=symbol, side=side, quantity=to_decimal(str(quantity)),
                         start=start, end=end, limit_price=None if limit_price in (None, "") else to_decimal(
                             str(limit_price)), max_participation=max_participation, on_kill_switch=on_kill_switch)
    params = dict(params or {})
    if algo == "is" and "params" not in params:
        params.setdefault("risk_aversion", 0.0)
    _algo_from_row_params(algo, params, parent)  # validate now
    with transaction.atomic():
        if portfolio.algo_orders.filter(parent_id=parent_id).exists():
            raise StateConflict(f"algorithm order {parent_id} already exists")
        return models.AlgoOrder.objects.create(
            portfolio=portfolio, parent_id=parent.parent_id, symbol=parent.symbol, side=parent.side.value,
            quantity=parent.quantity, algo=algo, params=params, start=parent.start, end=parent.end,
            limit_price=parent.limit_price, max_participation=max_participation, on_kill_switch=on_kill_switch)


def _algo_from_row_params(algo: str, params: dict, parent: ParentOrder):
    if algo == "is":
        minutes = (parent.end - parent.start).total_seconds() / 60.0
        ac = AlmgrenChrissParams(shares=float(parent.quantity), horizon_days=minutes / 390.0,
                                 periods=int(params.get("periods", 10)), sigma=float(params.get("sigma", 1.0)),
                                 eta=float(params.get("eta", 1e-3)), gamma=float(params.get("gamma", 0.0)),
                                 risk_aversion=float(params.get("risk_aversion", 0.0)))
        return make_algo("is", params=ac)
    return make_algo(algo, **params)


def _parent(row: models.AlgoOrder) -> ParentOrder:
    return ParentOrder(parent_id=row.parent_id, symbol=row.symbol, side=row.side, quantity=row.quantity,
                       start=row.start, end=row.end, limit_price=row.limit_price,
                       max_participation=row.max_participation, on_kill_switch=row.on_kill_switch)


def algo_order_cancel(*, user, portfolio_id: int, parent_id: str, clock: Clock | None = None) -> models.AlgoOrder:
    """Cancel a parent order and its working children."""
    from bifrost_web.trading import services as trading_services

    row = selectors.algo_order_get(user=user, portfolio_id=portfolio_id, parent_id=parent_id)
    if row.state in (models.AlgoOrder.State.COMPLETED, models.AlgoOrder.State.EXPIRED,
                     models.AlgoOrder.State.CANCELLED):
        raise StateConflict(f"algorithm order {parent_id} is {row.state}; nothing to cancel")
    for child in row.portfolio.orders.filter(tag=f"{selectors.ALGO_TAG_PREFIX}{row.parent_id}",
                                             status__in=["new", "accepted", "partially_filled"]):
        trading_services.order_cancel(user=user, portfolio_id=portfolio_id, client_order_id=child.client_order_id,
                                      clock=clock)
    row.state, row.state_reason = models.AlgoOrder.State.CANCELLED, "cancelled by the user"
    row.save(update_fields=["state", "state_reason", "updated_at"])
    return row


def algo_order_work(*, algo_order_id: int, clock: Clock | None = None) -> models.AlgoOrder:
    """One decision step of a parent order: honour the kill switch, then send the child the schedule needs.

    Children go through the trading service (pre-trade checks, the portfolio's broker) with
    ``tag = "algo:<parent_id>"``. Idempotent per step: a child id is ``<parent_id>-<n>`` and
    ``n`` only advances when a child was stored.
    """
    from bifrost_web.trading import selectors as trading_selectors
    from bifrost_web.trading import services as trading_services

    now = (clock or WallClock()).now()
    row = models.AlgoOrder.objects.select_related("portfolio", "portfolio__owner").get(pk=algo_order_id)
    if row.state in (models.AlgoOrder.State.COMPLETED, models.AlgoOrder.State.EXPIRED,
                     models.AlgoOrder.State.CANCELLED):
        return row
    portfolio = row.portfolio
    children = list(portfolio.orders.filter(tag=f"{selectors.ALGO_TAG_PREFIX}{row.parent_id}"))
    filled = sum((c.filled_quantity for c in children), Decimal(0))
    working = sum((c.quantity - c.filled_quantity for c in children
                   if c.status in ("new", "accepted", "partially_filled")), Decimal(0))
    row.filled_quantity = filled
    halted = portfolio.kill_switch or trading_selectors.global_halt() is not None
    if halted:
        row.state = (models.AlgoOrder.State.CANCELLED if row.on_kill_switch == "cancel"
                     else models.AlgoOrder.State.PAUSED)
        row.state_reason = "kill switch"
    elif filled >= row.quantity:
        row.state, row.state_reason = models.AlgoOrder.State.COMPLETED, "filled"
    elif now >= row.end:
        row.state, row.state_reason = models.AlgoOrder.State.EXPIRED, f"end reached with {row.quantity - filled} unfilled"
        for child in children:
            if child.status in ("new", "accepted", "partially_filled"):
                trading_services.order_cancel(user=portfolio.owner, portfolio_id=portfolio.pk,
                                              client_order_id=child.client_order_id, clock=clock)
    elif now >= row.start:
        row.state = models.AlgoOrder.State.WORKING
        parent = _parent(row)
        algo = _algo_from_row_params(row.algo, row.params, parent)
        market = MarketState()
        bars = selectors.bars_frame(symbols=[row.symbol], start=row.start, end=now)
        if len(bars):
            market.last_price = decimal_from_float(float(bars["close"].iloc[-1]))
            market.last_bar_volume = float(bars["volume"].iloc[-1])
            market.volume_since_start = float(bars["volume"].sum())
        target = algo.target_quantity(parent, market, now)
        need = (target - filled - working).to_integral_value(rounding="ROUND_FLOOR")
        if row.max_participation is not None and market.last_bar_volume:
            need = min(need, Decimal(int(row.max_participation * market.last_bar_volume)) - working)
        if need > 0:
            limit = algo.child_limit(parent, market)
            request = OrderRequest(
                client_order_id=f"{row.parent_id}-{row.children_sent + 1}", symbol=row.symbol, side=row.side,
                quantity=need, order_type=OrderType.MARKET if limit is None else OrderType.LIMIT, limit_price=limit,
                time_in_force=TimeInForce.DAY, tag=f"{selectors.ALGO_TAG_PREFIX}{row.parent_id}")
            try:
                trading_services.order_submit(user=portfolio.owner, portfolio_id=portfolio.pk, request=request,
                                              clock=clock)
                row.state_reason = f"sent {need} at {now.isoformat()}"
            except OrderRejected as exc:
                row.state_reason = exc.message[:200]
            row.children_sent += 1
    row.save()
    return row
