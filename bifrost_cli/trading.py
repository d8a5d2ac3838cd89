"""``bifrost portfolio …`` and ``bifrost order …``."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

import typer
from rich.table import Table

from bifrost_cli.main import _django, console, handles_errors

portfolio_app = typer.Typer(help="Portfolios: create, fund, inspect positions, lots and the ledger.",
                            no_args_is_help=True)
order_app = typer.Typer(help="Orders: submit, cancel, list and show.", no_args_is_help=True)

UserOpt = Annotated[str, typer.Option("--user", "-u", envvar="BIFROST_USER", help="Acting user (env BIFROST_USER).")]


def _user(username: str):
    from django.contrib.auth import get_user_model

    from bifrost.core.errors import NotFoundError

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise NotFoundError(f"no user named {username!r} (create one with: bifrost user create {username})")
    return user


def _portfolio_id(user, name_or_id: str) -> int:
    from bifrost.core.errors import NotFoundError
    from bifrost_web.trading import selectors

    qs = selectors.portfolios_for(user=user)
    found = qs.filter(pk=int(name_or_id)).first() if name_or_id.isdigit() else qs.filter(name=name_or_id).first()
    if found is None:
        raise NotFoundError(f"you have no portfolio {name_or_id!r}")
    return found.pk


@portfolio_app.command("create")
@handles_errors
def portfolio_create(
    name: Annotated[str, typer.Argument(help="Portfolio name (unique per user).")],
    user: UserOpt = "demo",
    account_type: Annotated[str, typer.Option(help="cash or margin.")] = "cash",
    leverage: Annotated[str, typer.Option(help="Leverage limit (margin accounts).")] = "1",
    lot_method: Annotated[str, typer.Option(help="fifo, lifo, hifo or specific.")] = "fifo",
    tax_status: Annotated[str, typer.Option(help="taxable or ira.")] = "taxable",
    household: Annotated[str | None, typer.Option(help="Household to group it in.")] = None,
) -> None:
    """Create a portfolio."""
    _django()
    from bifrost_web.trading import services

    portfolio = services.portfolio_create(owner=_user(user), name=name, account_type=account_type,
                                          leverage_limit=leverage, lot_method=lot_method, tax_status=tax_status,
                                          household=household)
    console.print(f"created portfolio {portfolio.name} (id {portfolio.pk})")


@portfolio_app.command("list")
@handles_errors
def portfolio_list(user: UserOpt = "demo") -> None:
    """List your portfolios."""
    _django()
    from bifrost_web.trading import selectors

    table = Table("id", "name", "household", "account", "lots", "tax", "broker", "kill switch")
    for p in selectors.portfolios_for(user=_user(user)):
        table.add_row(str(p.pk), p.name, p.household.name if p.household else "", p.account_type, p.lot_method,
                      p.tax_status, p.broker, "ON" if p.kill_switch else "off")
    console.print(table)


def _cash(kind: str, portfolio: str, amount: str, user: str, memo: str) -> None:
    _django()
    from bifrost_web.trading import services

    owner = _user(user)
    entry = services.cash_flow_record(user=owner, portfolio_id=_portfolio_id(owner, portfolio), kind=kind,
                                      amount=amount, memo=memo)
    console.print(f"{kind} {amount} recorded as {entry.entry_id}")


@portfolio_app.command("deposit")
@handles_errors
def portfolio_deposit(portfolio: Annotated[str, typer.Argument(help="Portfolio name or id.")],
                      amount: Annotated[str, typer.Argument(help="Amount, e.g. 10000.00")],
                      user: UserOpt = "demo", memo: Annotated[str, typer.Option(help="Note.")] = "") -> None:
    """Deposit cash."""
    _cash("deposit", portfolio, amount, user, memo)


@portfolio_app.command("withdraw")
@handles_errors
def portfolio_withdraw(portfolio: Annotated[str, typer.Argument(help="Portfolio name or id.")],
                       amount: Annotated[str, typer.Argument(help="Amount, e.g. 500.00")],
                       user: UserOpt = "demo", memo: Annotated[str, typer.Option(help="Note.")] = "") -> None:
    """Withdraw cash (a cash account cannot go below zero)."""
    _cash("withdrawal", portfolio, amount, user, memo)


def _report(build, user: str, portfolio: str, as_json: bool) -> dict | None:
    """Build a portfolio report; print it as JSON and return ``None`` when ``as_json``."""
    from bifrost_web.trading import models

    report = build(models.Portfolio.objects.get(pk=_portfolio_id(_user(user), portfolio)))
    if as_json:
        console.print_json(json.dumps(report))
        return None
    return report


@portfolio_app.command("show")
@handles_errors
def portfolio_show(portfolio: Annotated[str, typer.Argument(help="Portfolio name or id.")], user: UserOpt = "demo",
                   as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Cash, NAV, positions with P&L."""
    _django()
    from bifrost_web.trading import reports

    report = _report(reports.positions_report, user, portfolio, as_json)
    if report is None:
        return
    console.print(f"cash {report['cash']}  NAV {report['nav'] or '—'}  gross {report['gross_exposure'] or '—'}  "
                  f"realised {report['realised_pnl']}")
    table = Table("symbol", "quantity", "avg cost", "last", "market value", "unrealised P&L")
    for p in report["positions"]:
        table.add_row(p["symbol"], p["quantity"], p["average_cost"], p["last_price"] or "—", p["market_value"] or "—",
                      p["unrealised_pnl"] or "—")
    console.print(table)


@portfolio_app.command("lots")
@handles_errors
def portfolio_lots(portfolio: Annotated[str, typer.Argument(help="Portfolio name or id.")], user: UserOpt = "demo",
                   as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Open tax lots and realised gains."""
    _django()
    from bifrost_web.trading import reports

    report = _report(reports.lots_report, user, portfolio, as_json)
    if report is None:
        return
    table = Table("lot", "symbol", "acquired", "quantity", "basis", "adjustment")
    for lot in report["lots"]:
        table.add_row(lot["lot_id"], lot["symbol"], lot["acquired"], lot["quantity"], lot["basis"],
                      lot["basis_adjustment"])
    console.print(table)


@portfolio_app.command("ledger")
@handles_errors
def portfolio_ledger(portfolio: Annotated[str, typer.Argument(help="Portfolio name or id.")], user: UserOpt = "demo",
                     limit: Annotated[int, typer.Option(help="Most recent entries.")] = 50) -> None:
    """The journal: every entry with its balanced lines."""
    _django()
    from bifrost_web.trading import models

    owner = _user(user)
    portfolio_row = models.Portfolio.objects.get(pk=_portfolio_id(owner, portfolio))
    table = Table("time", "entry", "kind", "lines")
    for entry in portfolio_row.ledger_entries.prefetch_related("lines").order_by("-id")[:limit]:
        lines = "; ".join(f"{line.account} {line.amount.normalize():f}" for line in entry.lines.all())
        table.add_row(entry.ts_event.isoformat(timespec="seconds"), entry.entry_id, entry.kind, lines)
    console.print(table)


@portfolio_app.command("kill-switch")
@handles_errors
def portfolio_kill_switch(
    portfolio: Annotated[str, typer.Argument(help="Portfolio name or id, or 'all' for the global switch.")],
    on: Annotated[bool, typer.Option("--on/--off", help="Trip or release.")] = True,
    reason: Annotated[str, typer.Option(help="Why (required to trip).")] = "",
    user: UserOpt = "demo",
) -> None:
    """Trip (cancels open orders, blocks new ones) or release a kill switch."""
    _django()
    from bifrost_web.trading import services

    owner = _user(user)
    portfolio_id = None if portfolio == "all" else _portfolio_id(owner, portfolio)
    cancelled = services.kill_switch_set(user=owner, portfolio_id=portfolio_id, active=on, reason=reason)
    console.print(("kill switch ON, cancelled " + ", ".join(o.client_order_id for o in cancelled)) if on
                  else "kill switch released")


@portfolio_app.command("import-trades")
@handles_errors
def portfolio_import_trades(
    portfolio: Annotated[str, typer.Argument(help="Portfolio name or id.")],
    file: Annotated[str, typer.Argument(help="Broker trade-history CSV (format: docs/trade-import.md).")],
    account: Annotated[str | None, typer.Option(help="Account in the file to import (needed if it has several).")] = None,
    tz: Annotated[str | None, typer.Option(help="Time zone of naive date-times in the file.")] = None,
    user: UserOpt = "demo",
    as_json: Annotated[bool, typer.Option("--json", help="Print the parsed trades as JSON and import nothing.")] = False,
) -> None:
    """Import a broker trade history (all or nothing; re-importing skips known trade ids)."""
    _django()
    if as_json:
        from bifrost.adapters.files.trades import read_trade_history, trades_to_json

        console.print_json(json.dumps(trades_to_json(read_trade_history(file, tz=tz))))
        return
    from bifrost_web.trading import services

    owner = _user(user)
    summary = services.trades_import(user=owner, portfolio_id=_portfolio_id(owner, portfolio), path=file,
                                     account=account, tz=tz)
    console.print(f"imported {summary['trades']} trades and {summary['cash_events']} cash events "
                  f"({summary['skipped']} already present)")


@portfolio_app.command("snapshot")
@handles_errors
def portfolio_snapshot(
    portfolio: Annotated[str, typer.Argument(help="Portfolio name or id.")],
    start: Annotated[str, typer.Option(help="First session (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option(help="Last session (YYYY-MM-DD).")],
    user: UserOpt = "demo",
) -> None:
    """Store end-of-day NAV snapshots for every session in a range and print the returns."""
    _django()
    from datetime import date

    from bifrost.core.errors import InvalidInput
    from bifrost_web.trading import models, services

    owner = _user(user)
    portfolio_id = _portfolio_id(owner, portfolio)
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        raise InvalidInput(f"start and end must be YYYY-MM-DD, were {start!r} and {end!r}") from None
    if first > last:
        raise InvalidInput(f"start {first} is after end {last}")
    count = services.snapshots_rebuild(portfolio_id=portfolio_id, start=first, end=last)
    perf = services.performance(portfolio=models.Portfolio.objects.get(pk=portfolio_id))
    twr, mwr = perf["time_weighted_return"], perf["money_weighted_return"]
    console.print(f"{count} snapshots; time-weighted return "
                  f"{'—' if twr is None else f'{twr:.4%}'}, money-weighted (annual) "
                  f"{'—' if mwr is None else f'{mwr:.4%}'}")


@portfolio_app.command("reconcile")
@handles_errors
def portfolio_reconcile(
    portfolio: Annotated[str, typer.Argument(help="Portfolio name or id (a live broker portfolio).")],
    apply: Annotated[bool, typer.Option(help="Repair: book missing fills, align order statuses.")] = False,
    user: UserOpt = "demo",
) -> None:
    """Compare orders and positions with the broker's; report, and with --apply repair ours."""
    _django()
    from bifrost_web.trading import services

    owner = _user(user)
    result = services.broker_reconcile(user=owner, portfolio_id=_portfolio_id(owner, portfolio), apply=apply)
    console.print(result["summary"])
    for line in result["differences"]:
        console.print(f"  - {line}")
    for line in result["applied"]:
        console.print(f"[green]applied[/green] {line}")


@portfolio_app.command("paper-process")
@handles_errors
def portfolio_paper_process(portfolio: Annotated[str, typer.Argument(help="Portfolio name or id.")],
                            user: UserOpt = "demo") -> None:
    """Match open paper orders against the bars stored since they were sent."""
    _django()
    from bifrost_web.trading import services

    summary = services.paper_process(portfolio_id=_portfolio_id(_user(user), portfolio))
    console.print(f"{summary['fills']} new fills, {summary['events']} events from {summary['orders']} open orders")


@portfolio_app.command("run-strategy")
@handles_errors
def portfolio_run_strategy(
    portfolio: Annotated[str, typer.Argument(help="Portfolio name or id.")],
    strategy: Annotated[str, typer.Argument(help="Registered strategy name (see `bifrost backtest run --help`).")],
    symbols: Annotated[str, typer.Option("--symbols", "-s", help="Comma-separated symbols.")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="Strategy parameter key=value.")] = None,
    timeframe: Annotated[str, typer.Option(help="Bar timeframe: 1m, 5m, 15m, 1h or 1d.")] = "1d",
    history: Annotated[int, typer.Option(help="Closed bars to warm the strategy up on.")] = 300,
    poll: Annotated[float, typer.Option(help="Seconds between polls of the bar store.")] = 60.0,
    max_polls: Annotated[int | None, typer.Option(help="Stop after this many polls (default: run until Ctrl-C).")] = None,
    user: UserOpt = "demo",
) -> None:
    """Run a strategy on a portfolio: paper or live trading, every order and fill persisted.

    Polls the bar store for newly closed bars (feed it with `bifrost data ingest` or provider
    refreshes); the portfolio's risk limits adjust the strategy's targets (weight caps, sector
    scaling) before its orders are made; orders pass the pre-trade checks (risk, compliance,
    kill switches) and paper orders fill against the stored bars.
    """
    _django()
    from bifrost.backtest import strategy_class
    from bifrost.backtest.live import LiveRunner
    from bifrost.core.errors import InvalidInput
    from bifrost_web.trading.strategy_runner import strategy_session

    params = {}
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidInput(f"parameter {item!r} is not key=value")
        params[key.strip()] = value.strip()
    acting = _user(user)
    session, source = strategy_session(user=acting, portfolio_id=_portfolio_id(acting, portfolio),
                                       strategy=strategy_class(strategy)(**params),
                                       symbols=[s for s in symbols.split(",") if s.strip()], timeframe=timeframe,
                                       history_bars=history)
    runner = LiveRunner(session, source, log=console.print)
    console.print(f"running {strategy} on {symbols} ({timeframe}); Ctrl-C to stop")
    try:
        runner.run(poll_seconds=poll, max_steps=max_polls)
    except KeyboardInterrupt:
        pass
    finally:
        session.stop()
    broker = session.broker
    console.print(f"{session.bars_seen} bars, {len(broker.orders)} orders, {len(broker.fills)} fills; "
                  f"refused: {len(session.context.rejections)}; targets adjusted by risk limits: "
                  f"{len(session.context.target_adjustments)}")
    for entry in session.context.target_adjustments[-5:]:
        console.print(f"  {entry['ts']}: {'; '.join(entry['adjustments'])}")


@order_app.command("submit")
@handles_errors
def order_submit(
    portfolio: Annotated[str, typer.Argument(help="Portfolio name or id.")],
    side: Annotated[str, typer.Argument(help="buy or sell.")],
    quantity: Annotated[str, typer.Argument(help="Shares.")],
    symbol: Annotated[str, typer.Argument(help="Symbol.")],
    order_type: Annotated[str, typer.Option("--type", help="market, limit, stop, stop_limit, trailing_stop.")] = "market",
    limit: Annotated[str | None, typer.Option(help="Limit price.")] = None,
    stop: Annotated[str | None, typer.Option(help="Stop price.")] = None,
    trail_amount: Annotated[str | None, typer.Option(help="Trailing amount.")] = None,
    trail_percent: Annotated[str | None, typer.Option(help="Trailing percent.")] = None,
    tif: Annotated[str, typer.Option(help="day, gtc, ioc, fok, opg, cls.")] = "day",
    client_order_id: Annotated[str | None, typer.Option(help="Idempotency key.")] = None,
    lot_method: Annotated[str | None, typer.Option(
        help="Lot method for the lots this order closes, overriding the portfolio's: fifo, lifo, hifo, "
             "specific (with --lot-id).")] = None,
    lot_id: Annotated[list[str] | None, typer.Option(
        help="A lot to relieve (specific identification); repeat for several, relieved in the order given.")] = None,
    user: UserOpt = "demo",
) -> None:
    """Submit an order (checked before it leaves; idempotent on --client-order-id)."""
    _django()
    from bifrost.orders import OrderRequest
    from bifrost_web.trading import services

    owner = _user(user)
    request = OrderRequest(client_order_id=client_order_id or f"cli-{uuid.uuid4().hex[:16]}", symbol=symbol,
                           side=side, quantity=quantity, order_type=order_type, time_in_force=tif,
                           limit_price=limit, stop_price=stop, trail_amount=trail_amount, trail_percent=trail_percent,
                           lot_method=lot_method, lot_ids=tuple(lot_id or ()))
    order = services.order_submit(user=owner, portfolio_id=_portfolio_id(owner, portfolio), request=request)
    console.print(f"order {order.client_order_id} {order.status}")


@order_app.command("cancel")
@handles_errors
def order_cancel(portfolio: Annotated[str, typer.Argument(help="Portfolio name or id.")],
                 client_order_id: Annotated[str, typer.Argument(help="Client order id.")],
                 user: UserOpt = "demo") -> None:
    """Cancel an open order."""
    _django()
    from bifrost_web.trading import services

    owner = _user(user)
    order = services.order_cancel(user=owner, portfolio_id=_portfolio_id(owner, portfolio),
                                  client_order_id=client_order_id)
    console.print(f"order {order.client_order_id} {order.status}")


@order_app.command("list")
@handles_errors
def order_list(portfolio: Annotated[str, typer.Argument(help="Portfolio name or id.")], user: UserOpt = "demo",
               status: Annotated[str | None, typer.Option(help="open, filled, cancelled, rejected, ...")] = None) -> None:
    """The blotter."""
    _django()
    from bifrost_web.trading import models, selectors

    owner = _user(user)
    portfolio_row = models.Portfolio.objects.get(pk=_portfolio_id(owner, portfolio))
    table = Table("created", "client id", "side", "qty", "symbol", "type", "tif", "status", "filled", "avg price",
                  "reason")
    for o in selectors.orders_for(portfolio=portfolio_row, status=status)[:200]:
        table.add_row(o.created_at.isoformat(timespec="seconds"), o.client_order_id, o.side,
                      f"{o.quantity.normalize():f}", o.symbol, o.order_type, o.time_in_force, o.status,
                      f"{o.filled_quantity.normalize():f}",
                      f"{o.avg_fill_price.normalize():f}" if o.avg_fill_price is not None else "", o.reject_reason[:60])
    console.print(table)


@order_app.command("show")
@handles_errors
def order_show(portfolio: Annotated[str, typer.Argument(help="Portfolio name or id.")],
               client_order_id: Annotated[str, typer.Argument(help="Client order id.")],
               user: UserOpt = "demo") -> None:
    """One order with every event (ts_event and ts_recorded)."""
    _django()
    from bifrost_web.trading import models, selectors

    owner = _user(user)
    portfolio_row = models.Portfolio.objects.get(pk=_portfolio_id(owner, portfolio))
    order = selectors.order_get(portfolio=portfolio_row, client_order_id=client_order_id)
    console.print(f"{order.client_order_id}: {order.side} {order.quantity.normalize():f} {order.symbol} "
                  f"{order.order_type} {order.time_in_force} → {order.status}")
    table = Table("kind", "ts_event", "ts_recorded", "reason")
    for e in order.events.order_by("id"):
        table.add_row(e.kind, e.ts_event.isoformat(), e.ts_recorded.isoformat(), e.reason)
    console.print(table)



