"""`bifrost execution`: execution quality: algorithms, routing, transaction cost analysis and impact.

Commands work on a portfolio's stored fills (``--portfolio``) or on plain CSV files of fills,
orders, quotes and bars (``--fills`` ...), so a backtest or a broker export can be analysed
without a database.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bifrost_cli.main import _django, console, handles_errors

app = typer.Typer(help="Execution quality: algorithms, routing, transaction cost analysis and impact.", no_args_is_help=True)

UserOpt = Annotated[str, typer.Option("--user", "-u", envvar="BIFROST_USER", help="Acting user (env BIFROST_USER).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
PortfolioOpt = Annotated[str | None, typer.Option("--portfolio", "-p", help="Portfolio name or id (stored fills).")]
FillsOpt = Annotated[Path | None, typer.Option("--fills", help="CSV of fills: ts,symbol,side,quantity,price,...")]
OrdersOpt = Annotated[Path | None, typer.Option("--orders", help="CSV of orders: order_id,ts_submitted,symbol,...")]
QuotesOpt = Annotated[Path | None, typer.Option("--quotes", help="CSV of NBBO quotes: ts,symbol,bid,ask.")]
BarsOpt = Annotated[Path | None, typer.Option("--bars", help="CSV of bars: ts,symbol,open,high,low,close,volume.")]


def _json_default(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def _print_json(data) -> None:
    console.print_json(json.dumps(data, default=_json_default).replace("NaN", "null"))


def _read(path: Path | None):
    import pandas as pd

    from bifrost.core.errors import InvalidInput

    if path is None:
        return None
    if not path.is_file():
        raise InvalidInput(f"file not found: {path}")
    frame = pd.read_csv(path)
    for column in ("ts", "ts_submitted", "ts_decision"):
        if column in frame.columns:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _report(portfolio: str | None, user: str, fills: Path | None, orders: Path | None, quotes: Path | None,
            bars: Path | None, group_by: list[str] | None):
    from bifrost.core.errors import InvalidInput
    from bifrost.execquality import tca_report

    if portfolio is not None:
        _django()
        from bifrost_cli.trading import _portfolio_id, _user
        from bifrost_web.execquality import services

        owner = _user(user)
        return services.tca_compute(user=owner, portfolio_id=_portfolio_id(owner, portfolio), group_by=group_by)
    if fills is None:
        raise InvalidInput("give --portfolio or --fills")
    return tca_report(_read(fills), _read(orders), _read(quotes), _read(bars),
                      group_by=tuple(group_by or ("strategy", "broker")))


@app.command("tca")
@handles_errors
def tca(portfolio: PortfolioOpt = None, fills: FillsOpt = None, orders: OrdersOpt = None, quotes: QuotesOpt = None,
        bars: BarsOpt = None, user: UserOpt = "demo",
        group_by: Annotated[list[str] | None, typer.Option("--by", help="Group by (repeat): strategy, broker, venue, symbol.")] = None,
        as_json: JsonOpt = False) -> None:
    """Transaction cost analysis: slippage vs arrival/VWAP/close, Perold shortfall, Rule 605 summary."""
    report = _report(portfolio, user, fills, orders, quotes, bars, group_by)
    if as_json:
        _print_json(report.to_dict())
        return
    summary = Table("metric", "value", title="TCA summary (bps, positive = cost)")
    for key, value in report.summary.items():
        if not isinstance(value, dict):
            summary.add_row(key, f"{value:,.3f}" if isinstance(value, float) else str(value))
    console.print(summary)
    if len(report.rule605):
        table = Table("broker", "venue", "shares", "% improved", "% at quote", "% outside", "eff. spread",
                      "real. spread", "flagged", title="Rule 605-style summary")
        for row in report.rule605.itertuples(index=False):
            table.add_row(str(row.broker), str(row.venue), f"{row.shares:,.0f}", f"{row.pct_improved:.1f}",
                          f"{row.pct_at_quote:.1f}", f"{row.pct_outside_quote:.1f}", f"{row.avg_effective_spread:.4f}",
                          f"{row.avg_realized_spread:.4f}", str(row.flagged_fills))
        console.print(table)


@app.command("report")
@handles_errors
def report(output: Annotated[Path, typer.Argument(help="File to write: .html or .pdf (tables and charts).")],
           portfolio: PortfolioOpt = None, fills: FillsOpt = None, orders: OrdersOpt = None,
           quotes: QuotesOpt = None, bars: BarsOpt = None, user: UserOpt = "demo") -> None:
    """Write the TCA report as HTML with charts or as a PDF."""
    result = _report(portfolio, user, fills, orders, quotes, bars, None)
    if output.suffix.lower() == ".pdf":
        result.to_pdf(output)
    else:
        result.to_html(path=output)
    console.print(f"wrote {output}")


@app.command("schedule")
@handles_errors
def schedule(
    shares: Annotated[float, typer.Option(help="Shares to trade (X).")] = 1_000_000,
    days: Annotated[float, typer.Option(help="Horizon T in days.")] = 5,
    periods: Annotated[int, typer.Option(help="Number of periods N.")] = 5,
    sigma: Annotated[float, typer.Option(help="Volatility, $/share/day^0.5.")] = 0.95,
    eta: Annotated[float, typer.Option(help="Temporary impact, $/share per share/day.")] = 2.5e-6,
    gamma: Annotated[float, typer.Option(help="Permanent impact, $/share per share.")] = 2.5e-7,
    epsilon: Annotated[float, typer.Option(help="Fixed cost per share (half spread).")] = 0.0625,
    risk_aversion: Annotated[float, typer.Option("--lambda", help="Risk aversion lambda (1/$).")] = 1e-6,
    frontier: Annotated[int, typer.Option(help="Also print this many efficient-frontier points.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Almgren-Chriss optimal trajectory: kappa, expected cost, variance, trades (defaults: the paper's example)."""
    _django()
    from bifrost_web.execquality import services

    data = services.schedule_for(shares=shares, horizon_days=days, periods=periods, sigma=sigma, eta=eta, gamma=gamma,
                                 epsilon=epsilon, risk_aversion=risk_aversion, frontier_points=frontier)
    if as_json:
        _print_json(data)
        return
    half_life = data["half_life_days"]
    console.print(f"kappa {data['kappa']:.4f}/day  half-life {'∞' if half_life is None else f'{half_life:.3f}'} days  "
                  f"E[cost] ${data['expected_cost']:,.0f}  sd ${data['std']:,.0f}")
    table = Table("t (days)", "holdings", "trade")
    for t, x, n in zip(data["times_days"], data["holdings"], [0.0, *data["trades"]], strict=True):
        table.add_row(f"{t:.3f}", f"{x:,.0f}", f"{n:,.0f}")
    console.print(table)
    for point in data.get("frontier", []):
        console.print(f"lambda {point['risk_aversion']:.3g}: E ${point['expected_cost']:,.0f}  "
                      f"sd ${math.sqrt(point['variance']):,.0f}")


@app.command("recommend")
@handles_errors
def recommend(
    symbol: Annotated[str, typer.Argument(help="Symbol.")],
    side: Annotated[str, typer.Argument(help="buy or sell.")],
    quantity: Annotated[float, typer.Argument(help="Shares.")],
    portfolio: PortfolioOpt = None,
    user: UserOpt = "demo",
    urgency: Annotated[str, typer.Option(help="low, medium or high.")] = "medium",
    minutes: Annotated[float | None, typer.Option(help="Minutes left to work the order.")] = None,
    adv: Annotated[float | None, typer.Option(help="Average daily volume (else from stored bars).")] = None,
    sigma: Annotated[float | None, typer.Option(help="Daily volatility, e.g. 0.02.")] = None,
    price: Annotated[float | None, typer.Option(help="Price (else the last close).")] = None,
    spread_bps: Annotated[float, typer.Option(help="Quoted spread in bps.")] = 5.0,
    passive_fill_rate: Annotated[float, typer.Option(
        help="Share expected to fill resting at the touch (from your TCA); 0 leaves passive styles out.")] = 0.0,
    adverse_selection_bps: Annotated[float, typer.Option(
        help="How far the mid moves against passive fills, bps (from your TCA).")] = 0.0,
    as_json: JsonOpt = False,
) -> None:
    """Recommend an execution algorithm with expected cost and risk of each candidate."""
    from bifrost.execquality import OrderProfile
    from bifrost.execquality import recommend as recommend_order

    if portfolio is not None:
        _django()
        from bifrost_cli.trading import _portfolio_id, _user
        from bifrost_web.execquality import services

        owner = _user(user)
        result = services.recommendation_for(user=owner, portfolio_id=_portfolio_id(owner, portfolio), symbol=symbol,
                                             side=side, quantity=quantity, urgency=urgency, minutes_to_close=minutes,
                                             adv=adv, sigma_daily=sigma, price=price, spread_bps=spread_bps,
                                             passive_fill_rate=passive_fill_rate,
                                             adverse_selection_bps=adverse_selection_bps)
    else:
        from bifrost.core.errors import InvalidInput

        if adv is None or sigma is None or price is None:
            raise InvalidInput("without --portfolio give --adv, --sigma and --price")
        result = recommend_order(OrderProfile(symbol=symbol, side=side, quantity=quantity, price=price, adv=adv,
                                              sigma_daily=sigma, spread_bps=spread_bps, urgency=urgency,
                                              minutes_to_close=minutes or 390.0, passive_fill_rate=passive_fill_rate,
                                              adverse_selection_bps=adverse_selection_bps))
    if as_json:
        _print_json(result.to_dict())
        return
    table = Table("algo", "params", "minutes", "E[cost] bps", "risk bps", "score", "feasible")
    for c in result.candidates:
        params = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in c.params.items())
        table.add_row(c.algo, params, f"{c.duration_minutes:.0f}", f"{c.expected_cost_bps:.2f}", f"{c.risk_bps:.2f}",
                      f"{c.score:.2f}", "yes" if c.feasible else "no")
    console.print(table)
    console.print(result.explanation)


@app.command("venues")
@handles_errors
def venues(user: UserOpt = "demo", as_json: JsonOpt = False) -> None:
    """List the routing venues (yours, or the demo venues when you have none)."""
    _django()
    from bifrost_cli.trading import _user
    from bifrost_web.execquality import services

    profiles = services.venue_profiles(user=_user(user))
    if as_json:
        _print_json([{"name": v.name, "schedule": v.schedule, "taker_fee_per_share": v.taker_fee_per_share,
                      "maker_rebate_per_share": v.maker_rebate_per_share, "latency_ms": v.latency_ms,
                      "fill_probability": v.fill_probability} for v in profiles])
        return
    table = Table("venue", "schedule", "taker fee/sh", "maker rebate/sh", "latency ms", "fill prob.")
    for v in profiles:
        table.add_row(v.name, v.schedule, f"{v.taker_fee_per_share:.4f}", f"{v.maker_rebate_per_share:.4f}",
                      f"{v.latency_ms:g}", f"{v.fill_probability:.2f}")
    console.print(table)


@app.command("route")
@handles_errors
def route(
    side: Annotated[str, typer.Argument(help="buy or sell.")],
    quantity: Annotated[float, typer.Argument(help="Shares.")],
    quote: Annotated[list[str], typer.Option("--quote", help="VENUE:BID:BIDSIZE:ASK:ASKSIZE (repeat per venue).")],
    limit: Annotated[float | None, typer.Option(help="Limit price.")] = None,
    user: UserOpt = "demo",
    as_json: JsonOpt = False,
) -> None:
    """Split an order across venues to minimise the expected all-in cost (smart order routing)."""
    _django()
    from bifrost.core.errors import InvalidInput
    from bifrost_cli.trading import _user
    from bifrost_web.execquality import services

    quotes = []
    for text in quote:
        parts = text.split(":")
        if len(parts) != 5:
            raise InvalidInput(f"--quote must be VENUE:BID:BIDSIZE:ASK:ASKSIZE, was {text!r}")
        try:
            quotes.append({"venue": parts[0], "bid": float(parts[1]), "bid_size": float(parts[2]),
                           "ask": float(parts[3]), "ask_size": float(parts[4])})
        except ValueError as exc:
            raise InvalidInput(f"--quote has a non-number in {text!r}") from exc
    plan = services.route_preview(user=_user(user), side=side, quantity=quantity, quotes=quotes, limit_price=limit)
    if as_json:
        _print_json(plan)
        return
    table = Table("venue", "action", "quantity", "price", "fee/sh", "E[cost]/sh", "fill prob.")
    for leg in plan["legs"]:
        table.add_row(leg["venue"], leg["action"], f"{leg['quantity']:,.0f}", f"{leg['price']:.4f}",
                      f"{leg['fee_per_share']:+.4f}", f"{leg['expected_cost_per_share']:+.4f}",
                      f"{leg['fill_probability']:.2f}")
    console.print(table)
    console.print(f"unrouted {plan['unrouted']:,.0f}; expected all-in price {plan['expected_all_in_price']:.5f}")


@app.command("impact")
@handles_errors
def impact(portfolio: Annotated[str, typer.Argument(help="Portfolio name or id.")], user: UserOpt = "demo",
           as_json: JsonOpt = False) -> None:
    """Recalibrate the permanent/temporary impact coefficients from the portfolio's own fills."""
    _django()
    from bifrost_cli.trading import _portfolio_id, _user
    from bifrost_web.execquality import services

    owner = _user(user)
    calibration = services.impact_recalibrate(user=owner, portfolio_id=_portfolio_id(owner, portfolio))
    data = {"id": calibration.pk, "temporary": calibration.temporary, "permanent": calibration.permanent,
            "square_root": calibration.square_root, "observations": calibration.observations,
            "exponent": calibration.exponent}
    if as_json:
        _print_json(data)
        return
    console.print(f"calibration {calibration.pk} from {calibration.observations} orders: temporary "
                  f"{calibration.temporary:.4f}, permanent {calibration.permanent:.4f}, square-root Y "
                  f"{calibration.square_root:.4f}")


@app.command("simulate")
@handles_errors
def simulate(
    quantity: Annotated[float, typer.Option(help="Shares to buy.")] = 50_000,
    adv: Annotated[float, typer.Option(help="Average daily volume.")] = 1_000_000,
    sigma: Annotated[float, typer.Option(help="Daily volatility.")] = 0.02,
    price: Annotated[float, typer.Option(help="Price.")] = 50.0,
    spread_bps: Annotated[float, typer.Option(help="Spread in bps.")] = 4.0,
    urgency: Annotated[str, typer.Option(help="low, medium or high.")] = "low",
    seeds: Annotated[int, typer.Option(help="Market paths to simulate.")] = 1000,
    as_json: JsonOpt = False,
) -> None:
    """Work an order in the seeded demo market: selected algorithm vs market order vs TWAP, over many seeds."""
    from bifrost.execquality import SimulatedMarket, compare_strategies

    market = SimulatedMarket(price=price, sigma_daily=sigma, adv=adv, spread_bps=spread_bps)
    result = compare_strategies(market=market, quantity=quantity, urgency=urgency, seeds=seeds)
    if as_json:
        _print_json(result.to_dict())
        return
    console.print(f"selected: {result.selected.upper()} over {result.seeds} seeds")
    for name, value in result.mean_shortfall_bps.items():
        console.print(f"  mean shortfall {name:>10}: {value:8.2f} bps")
    for label, (mean, low, high) in (("market order", result.improvement_vs_market_bps),
                                     ("1-hour TWAP", result.improvement_vs_twap_bps),
                                     ("full-day TWAP", result.improvement_vs_full_twap_bps)):
        console.print(f"  saves vs {label:>13}: {mean:7.2f} bps (95% CI {low:.2f} to {high:.2f})")
