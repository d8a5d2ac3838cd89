"""`bifrost risk`: risk management: VaR, limits, pre-trade checks, stress tests and reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bifrost_cli.main import _django, console, handles_errors
from bifrost_cli.trading import UserOpt, _portfolio_id, _user

app = typer.Typer(help="Risk management: VaR, limits, pre-trade checks, stress tests and reports.", no_args_is_help=True)
limits_app = typer.Typer(help="Limit sets of a portfolio or household: list, set, delete.", no_args_is_help=True)
app.add_typer(limits_app, name="limits")

PortfolioArg = Annotated[str, typer.Argument(help="Portfolio name or id.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _portfolio(user: str, portfolio: str):
    from bifrost_web.trading import models

    owner = _user(user)
    return owner, models.Portfolio.objects.get(pk=_portfolio_id(owner, portfolio))


def _household_id(owner, name: str) -> int:
    from bifrost.core.errors import NotFoundError
    from bifrost_web.trading import models

    household = models.Household.objects.filter(owner=owner, name=name).first()
    if household is None:
        raise NotFoundError(f"you have no household {name!r}")
    return household.pk


def _print_json(data) -> None:
    console.print_json(json.dumps(data, default=str))


def _pct(value) -> str:
    return "—" if value is None else f"{value:.2%}"


def _money(value) -> str:
    return "—" if value is None else f"{value:,.2f}"


@app.command("var")
@handles_errors
def var(portfolio: PortfolioArg, user: UserOpt = "demo",
        confidence: Annotated[float, typer.Option(help="Confidence level, e.g. 0.99.")] = 0.99,
        horizon: Annotated[int, typer.Option("--horizon", help="Horizon in trading days.")] = 1,
        as_json: JsonOpt = False) -> None:
    """VaR and expected shortfall of a portfolio by every method, with the top contributors."""
    _django()
    from bifrost_web.risk import services

    _, row = _portfolio(user, portfolio)
    with console.status("computing VaR (Monte Carlo, GARCH fit)..."):
        report = services.risk_report(portfolio=row, confidence=confidence, horizon_days=horizon)
    if as_json:
        _print_json({k: report[k] for k in ("portfolio", "nav", "confidence", "horizon_days", "var", "decomposition",
                                            "no_history")})
        return
    console.print(f"portfolio {row.name}  NAV {_money(report['nav'])}  {confidence:.1%} {horizon}-day")
    table = Table("method", "VaR", "% NAV", "ES", "% NAV", "scaling")
    for r in report["var"]:
        if "var" in r:
            table.add_row(r["method"], _money(r["var"]), _pct(r["var_pct"]), _money(r["es"]), _pct(r["es_pct"]),
                          r["scaling"])
        else:
            table.add_row(r["method"], "error", r["error"], "", "", "")
    console.print(table)
    if report["decomposition"]:
        contributors = Table("symbol", "value", "component VaR", "% of VaR", title="Top contributors (delta-normal)")
        for r in report["decomposition"][:10]:
            contributors.add_row(r["symbol"], _money(r["value"]), _money(r["component_var"]), _pct(r["component_pct"]))
        console.print(contributors)


@limits_app.command("list")
@handles_errors
def limits_list(portfolio: Annotated[str | None, typer.Argument(help="Portfolio name or id.")] = None,
                household: Annotated[str | None, typer.Option(help="Household name instead of a portfolio.")] = None,
                user: UserOpt = "demo", as_json: JsonOpt = False) -> None:
    """The limits of a portfolio (or a household) with their current usage."""
    _django()
    from bifrost.core.errors import InvalidInput
    from bifrost_web.risk import selectors, services
    from bifrost_web.trading import models

    owner = _user(user)
    if household:
        scope = models.Household.objects.get(pk=_household_id(owner, household))
        limit_set = selectors.limit_set_for_household(household=scope)
    elif portfolio:
        scope = models.Portfolio.objects.get(pk=_portfolio_id(owner, portfolio))
        limit_set = selectors.limit_set_for_portfolio(portfolio=scope)
    else:
        raise InvalidInput("name a portfolio or give --household")
    rules = [services.rule_as_dict(r) for r in limit_set.rules.all()] if limit_set else []
    if as_json:
        _print_json(rules)
        return
    table = Table("id", "kind", "subject", "soft (warn)", "hard (block)")
    for r in rules:
        table.add_row(str(r["id"]), r["kind"], r["subject"], r["soft"] or "—", r["hard"] or "—")
    console.print(table)


@limits_app.command("set")
@handles_errors
def limits_set(kind: Annotated[str, typer.Argument(help="Limit kind, e.g. sector_weight, var, max_drawdown.")],
               portfolio: Annotated[str | None, typer.Option(help="Portfolio name or id.")] = None,
               household: Annotated[str | None, typer.Option(help="Household name instead of a portfolio.")] = None,
               soft: Annotated[str | None, typer.Option(help="Warn above this level.")] = None,
               hard: Annotated[str | None, typer.Option(help="Block above this level.")] = None,
               sector: Annotated[str | None, typer.Option(help="Limit one sector only.")] = None,
               industry: Annotated[str | None, typer.Option(help="Limit one industry only.")] = None,
               symbols: Annotated[str | None, typer.Option(help="Comma list for restricted_symbols.")] = None,
               window_seconds: Annotated[float | None, typer.Option(help="Window of order_rate.")] = None,
               user: UserOpt = "demo") -> None:
    """Create or replace a limit. Units: fractions of NAV (0.3 = 30%), currency, ratio or count by kind."""
    _django()
    from bifrost.core.errors import InvalidInput
    from bifrost_web.risk import services

    owner = _user(user)
    if (portfolio is None) == (household is None):
        raise InvalidInput("give exactly one of --portfolio or --household")
    params: dict = {}
    if sector:
        params["sector"] = sector
    if industry:
        params["industry"] = industry
    if symbols:
        params["symbols"] = [s.strip() for s in symbols.split(",") if s.strip()]
    if window_seconds:
        params["window_seconds"] = window_seconds
    scope = ({"portfolio_id": _portfolio_id(owner, portfolio)} if portfolio
             else {"household_id": _household_id(owner, household)})
    rule = services.limit_upsert(user=owner, kind=kind, soft=soft, hard=hard, params=params, **scope)
    console.print(f"limit {rule.pk}: {rule}")


@limits_app.command("delete")
@handles_errors
def limits_delete(rule_id: Annotated[int, typer.Argument(help="Limit id (from `risk limits list`).")],
                  user: UserOpt = "demo") -> None:
    """Remove a limit."""
    _django()
    from bifrost_web.risk import services

    services.limit_delete(user=_user(user), rule_id=rule_id)
    console.print(f"removed limit {rule_id}")


@app.command("check")
@handles_errors
def check(portfolio: PortfolioArg, symbol: Annotated[str, typer.Argument(help="Symbol.")],
          side: Annotated[str, typer.Argument(help="buy or sell.")],
          quantity: Annotated[str, typer.Argument(help="Shares.")],
          limit_price: Annotated[str | None, typer.Option(help="Limit price, if any.")] = None,
          user: UserOpt = "demo", as_json: JsonOpt = False) -> None:
    """Pre-trade what-if: would this order pass the portfolio's and household's limits? Nothing is sent."""
    _django()
    from bifrost_web.risk import services

    owner, row = _portfolio(user, portfolio)
    result = services.what_if(user=owner, portfolio_id=row.pk, symbol=symbol, side=side, quantity=quantity,
                              limit_price=limit_price)
    if as_json:
        _print_json(result)
        return
    colour = {"accept": "green", "warn": "yellow", "reject": "red"}[result["decision"]]
    console.print(f"[{colour}]{result['decision'].upper()}[/{colour}] {side} {quantity} {result['symbol']}")
    for finding in result["findings"]:
        console.print(f"  - {finding['severity']}: {finding['message']}")


@app.command("stress")
@handles_errors
def stress(portfolio: PortfolioArg, user: UserOpt = "demo",
           scenario: Annotated[list[str] | None, typer.Option(help="Historical scenario (repeat); default all.")] = None,
           index_shock: Annotated[list[float] | None, typer.Option(help="Index move, e.g. -0.2 (repeat).")] = None,
           vol_factor: Annotated[float | None, typer.Option(help="Multiply every volatility by k.")] = None,
           correlation_one: Annotated[bool, typer.Option(help="Set every correlation to 1.")] = False,
           reverse_loss: Annotated[float | None, typer.Option(help="Reverse stress: loss as a fraction of NAV.")] = None,
           as_json: JsonOpt = False) -> None:
    """Historical scenarios, hypothetical shocks and a reverse stress test on today's book."""
    _django()
    from bifrost_web.risk import services

    owner, row = _portfolio(user, portfolio)
    result = services.stress_run(user=owner, portfolio_id=row.pk, scenarios=scenario or None,
                                 index_shocks=index_shock or [], volatility_factor=vol_factor,
                                 correlation_to_one=correlation_one, reverse_loss_pct=reverse_loss)
    if as_json:
        _print_json(result)
        return
    table = Table("scenario", "window", "P&L", "% NAV")
    for s in result["historical"]:
        table.add_row(s["details"]["label"], f"{s['details']['start']}..{s['details']['end']}", _money(s["pnl"]),
                      _pct(s["pnl_pct"]))
    for s in result["index"]:
        table.add_row(s["name"], "", _money(s["pnl"]), _pct(s["pnl_pct"]))
    console.print(table)
    for name in ("volatility", "correlation"):
        if name in result:
            console.print(f"{name} shock: VaR {_money(result[name]['var_before'])} -> {_money(result[name]['var_after'])}")
    if "reverse" in result:
        reverse = result["reverse"]
        move = reverse.get("index_move")
        console.print(f"reverse stress: a loss of {_money(reverse['loss'])} needs an index move of "
                      f"{_pct(move) if move is not None else 'none (no index move loses that much)'}"
                      + (f"; most likely joint scenario at {reverse['sigmas']:.2f} sigma" if "sigmas" in reverse
                         else ""))
    if result["beta_proxy"]:
        console.print(f"beta 1 assumed for {', '.join(result['beta_proxy'])} (no company beta stored)")


@app.command("report")
@handles_errors
def report(portfolio: PortfolioArg, user: UserOpt = "demo", as_json: JsonOpt = False,
           pdf: Annotated[Path | None, typer.Option(help="Write the PDF report here.")] = None) -> None:
    """The daily risk report: VaR by method, backtest, exposures, limit usage, stress tests, contributors, alerts."""
    _django()
    from bifrost_web.risk import reports, services

    _, row = _portfolio(user, portfolio)
    with console.status("building the risk report..."):
        data = services.risk_report(portfolio=row, include=("stress", "backtest"))
    if pdf is not None:
        pdf.write_bytes(reports.report_pdf(data))
        console.print(f"wrote {pdf}")
    if as_json:
        _print_json(data)
        return
    console.print(f"{data['scope']} {data['name']}  NAV {_money(data['nav'])}  gross "
                  f"{_money(data['exposures']['gross'])}  leverage {data['exposures']['leverage']:.2f}x")
    for r in data["var"]:
        if "var" in r:
            console.print(f"  {r['method']:<20} VaR {_money(r['var']):>14}  ES {_money(r['es']):>14}")
    backtest = data.get("backtest") or {}
    if "exceptions" in backtest:
        console.print(f"backtest: {backtest['exceptions']} exceptions in {backtest['observations']} days, zone "
                      f"{backtest['zone']}, Kupiec p={backtest['kupiec_pvalue']:.3f}")
    for limit in data["limits"]:
        console.print(f"  limit {limit['kind']} {limit['subject']}: {limit['status']}")
    for alert in data.get("alerts", []):
        console.print(f"  [{alert['severity']}] {alert['message']}")


@app.command("backtest-var")
@handles_errors
def backtest_var(portfolio: PortfolioArg, user: UserOpt = "demo",
                 confidence: Annotated[float, typer.Option(help="VaR confidence.")] = 0.99,
                 window: Annotated[int, typer.Option(help="Estimation window in days.")] = 250,
                 as_json: JsonOpt = False) -> None:
    """Backtest the platform's one-day historical VaR on the portfolio's own history (Kupiec, Christoffersen, Basel)."""
    _django()
    from bifrost_web.risk import services

    _, row = _portfolio(user, portfolio)
    result = services.backtest_for(portfolio=row, confidence=confidence, window=window)
    if as_json:
        _print_json(result)
        return
    console.print(f"{result['exceptions']} exceptions in {result['observations']} days (expected "
                  f"{result['expected_exceptions']:.1f}), basis: {result['basis']}")
    console.print(f"Kupiec POF LR {result['kupiec_lr']:.3f} (p {result['kupiec_pvalue']:.3f}); independence LR "
                  f"{result['independence_lr']:.3f} (p {result['independence_pvalue']:.3f}); conditional coverage "
                  f"p {result['conditional_coverage_pvalue']:.3f}; Basel zone {result['zone']}")


@app.command("alerts")
@handles_errors
def alerts(portfolio: Annotated[str | None, typer.Argument(help="Portfolio name or id (all if omitted).")] = None,
           user: UserOpt = "demo", open_only: Annotated[bool, typer.Option("--open", help="Open only.")] = False,
           ack: Annotated[int | None, typer.Option(help="Acknowledge this alert id.")] = None,
           as_json: JsonOpt = False) -> None:
    """List risk alerts, or acknowledge one with --ack."""
    _django()
    from bifrost_web.risk import selectors, services
    from bifrost_web.trading import models

    owner = _user(user)
    if ack is not None:
        alert = services.alert_acknowledge(user=owner, alert_id=ack)
        console.print(f"acknowledged alert {alert.pk}")
        return
    scope = models.Portfolio.objects.get(pk=_portfolio_id(owner, portfolio)) if portfolio else None
    rows = [services.alert_as_dict(a) for a in selectors.alerts_for(user=owner, portfolio=scope, open_only=open_only)]
    if as_json:
        _print_json(rows)
        return
    table = Table("id", "severity", "message", "seen", "last", "ack")
    for a in rows:
        table.add_row(str(a["id"]), a["severity"], a["message"], str(a["occurrences"]), a["last_seen"][:19],
                      "yes" if a["acknowledged"] else "")
    console.print(table)


@app.command("revalue")
@handles_errors
def revalue(portfolio: PortfolioArg, user: UserOpt = "demo") -> None:
    """Revalue a portfolio's risk now: store a snapshot and raise alerts for crossed levels."""
    _django()
    from bifrost_web.risk import services

    _, row = _portfolio(user, portfolio)
    snapshot = services.risk_revalue(portfolio_id=row.pk, trigger="manual")
    console.print(f"snapshot {snapshot.pk}: NAV {snapshot.nav}, 1-day VaR {_money(snapshot.var)}")
