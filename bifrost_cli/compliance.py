"""`bifrost compliance`: tax lots, wash sales, Form 8949, day-trading rules and the audit trail.

Every report runs either on a broker trade-history CSV (``--file``, the format of
docs/trade-import.md; no database needed) or on a stored portfolio (``--portfolio``,
with its whole household for wash sales).
"""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from bifrost_cli.main import _django, console, handles_errors

app = typer.Typer(help="Compliance: tax lots, wash sales, day-trading rules, reports and audit trail.",
                  no_args_is_help=True)

FileOpt = Annotated[Path | None, typer.Option("--file", "-f", help="Broker trade-history CSV (docs/trade-import.md).")]
PortfolioOpt = Annotated[str | None, typer.Option("--portfolio", "-p", help="Stored portfolio name or id.")]
UserOpt = Annotated[str, typer.Option("--user", "-u", envvar="BIFROST_USER", help="Acting user (env BIFROST_USER).")]
AccountOpt = Annotated[str | None, typer.Option("--account", "-a", help="Report this account of the file only.")]
YearOpt = Annotated[int | None, typer.Option("--year", help="Tax year (disposal date).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
MethodOpt = Annotated[str, typer.Option("--method", help="Lot method for file accounts: fifo, lifo, hifo, "
                                                          "tax_optimal.")]
IraOpt = Annotated[list[str] | None, typer.Option("--ira", help="Account of the file that is an IRA (repeatable).")]
GroupOpt = Annotated[list[str] | None, typer.Option("--identical", help="Substantially identical symbols, "
                                                                         "comma-separated (repeatable): SPY,IVV,VOO")]
TzOpt = Annotated[str | None, typer.Option("--tz", help="IANA zone of naive times in the file.")]


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items() if not k.startswith("_")}
    if hasattr(value, "_asdict"):  # named tuples (Disposal, WashSale)
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _emit(data: Any) -> None:
    console.print_json(json.dumps(_plain(data)))


class _Source:
    """Trades, splits, account profiles and identical groups from a file or a stored portfolio."""

    def __init__(self, *, file: Path | None, portfolio: str | None, user: str, method: str, ira: list[str] | None,
                 identical: list[str] | None, tz: str | None, account: str | None) -> None:
        from bifrost.compliance import (
            AccountProfile,
            IdenticalGroups,
            TaxLotMethod,
            trades_from_history,
        )
        from bifrost.core.errors import InvalidInput

        if (file is None) == (portfolio is None):
            raise InvalidInput("give exactly one of --file (a trade-history CSV) or --portfolio")
        groups = [g.split(",") for g in identical or []]
        if file is not None:
            from bifrost.adapters.files import read_trade_history

            self.trades, self.splits = trades_from_history(read_trade_history(str(file), tz=tz))
            names = sorted({t.account for t in self.trades})
            if account is not None and account not in names:
                raise InvalidInput(f"{file} has no account {account!r} (accounts: {', '.join(names)})")
            unknown = sorted(set(ira or []) - set(names))
            if unknown:
                raise InvalidInput(f"--ira names accounts not in {file}: {', '.join(unknown)}")
            lot_method = TaxLotMethod(method)
            self.profiles = {n: AccountProfile(tax_advantaged=n in (ira or []), lot_method=lot_method) for n in names}
            self.groups = IdenticalGroups.of(groups)
            self.account = account
            self.portfolio = None
            self.currency = "USD"
        else:
            _django()
            from bifrost_cli.trading import _portfolio_id, _user
            from bifrost_web.compliance import services
            from bifrost_web.trading import models as tr_models

            owner = _user(user)
            self.portfolio = tr_models.Portfolio.objects.get(pk=_portfolio_id(owner, portfolio))
            members = services.household_portfolios(self.portfolio)
            self.trades, self.splits = services.trades_for(members), services.splits_for(members)
            self.profiles = services.profiles_for(members)
            stored = services.identical_groups_for(owner)
            self.groups = IdenticalGroups.of([*[sorted(g) for g in stored.groups], *groups])
            self.account = services.account_name(self.portfolio)
            self.currency = self.portfolio.base_currency

    def tax(self):
        from bifrost.compliance import compute_tax_lots

        return compute_tax_lots(self.trades, splits=self.splits, accounts=self.profiles, identical=self.groups,
                                currency=self.currency)

    def mine(self, account: str) -> bool:
        return self.account is None or account == self.account


def _source(file, portfolio, user, method, ira, identical, tz, account) -> _Source:
    return _Source(file=file, portfolio=portfolio, user=user, method=method, ira=ira, identical=identical, tz=tz,
                   account=account)


@app.command("lots")
@handles_errors
def lots(file: FileOpt = None, portfolio: PortfolioOpt = None, user: UserOpt = "demo", account: AccountOpt = None,
         year: YearOpt = None, method: MethodOpt = "fifo", ira: IraOpt = None, identical: GroupOpt = None,
         tz: TzOpt = None, as_json: JsonOpt = False) -> None:
    """Open tax lots and realised gain by term (short/long), after wash-sale adjustments."""
    source = _source(file, portfolio, user, method, ira, identical, tz, account)
    result = source.tax()
    open_lots = [lot for lot in result.open_lots if source.mine(lot.account)]
    accounts = sorted({d.account for d in result.disposals if source.mine(d.account)} |
                      {lot.account for lot in open_lots})
    realised = {a: result.realised(year=year, account=a, include_tax_advantaged=True) for a in accounts}
    if as_json:
        _emit({"open_lots": open_lots, "realised": realised,
               "permanently_disallowed": result.permanently_disallowed})
        return
    table = Table(title="Open tax lots")
    for column in ("account", "lot", "symbol", "quantity", "basis", "wash adj.", "acquired", "holding from"):
        table.add_column(column)
    for lot in open_lots:
        table.add_row(lot.account, lot.lot_id, lot.symbol, str(-lot.quantity if lot.short else lot.quantity),
                      f"{lot.basis:,.2f}", f"{lot.wash_adjustment:,.2f}", str(lot.acquired),
                      str(lot.holding_acquired))
    console.print(table)
    summary = Table(title=f"Realised {year or 'all years'}")
    for column in ("account", "short-term", "long-term", "total", "wash disallowed"):
        summary.add_column(column, justify="right")
    for name, values in realised.items():
        summary.add_row(name, *(f"{values[k]:,.2f}" for k in ("short_term", "long_term", "total",
                                                              "wash_disallowed")))
    console.print(summary)


@app.command("wash-sales")
@handles_errors
def wash_sales(file: FileOpt = None, portfolio: PortfolioOpt = None, user: UserOpt = "demo",
               account: AccountOpt = None, year: YearOpt = None, method: MethodOpt = "fifo", ira: IraOpt = None,
               identical: GroupOpt = None, tz: TzOpt = None, as_json: JsonOpt = False) -> None:
    """Wash sales (IRC 1091): each disallowed loss, its replacement and whether it went into basis."""
    source = _source(file, portfolio, user, method, ira, identical, tz, account)
    result = source.tax()
    washes = [w for w in result.wash_sales if source.mine(w.account) and (year is None or w.sale_date.year == year)]
    if as_json:
        _emit({"wash_sales": washes, "permanently_disallowed": result.permanently_disallowed})
        return
    table = Table(title="Wash sales")
    for column in ("sale", "date", "symbol", "shares", "disallowed", "replacement", "in account", "to basis"):
        table.add_column(column)
    for w in washes:
        table.add_row(w.loss_trade_id, str(w.sale_date), w.symbol, str(w.shares), f"{w.disallowed:,.2f}",
                      f"{w.replacement_trade_id} ({w.replacement_date})", w.replacement_account,
                      "yes" if w.added_to_basis else "no (IRA)")
    console.print(table)
    total = sum((w.disallowed for w in washes), Decimal(0))
    console.print(f"Disallowed: {total:,.2f}; lost to IRA purchases: {result.permanently_disallowed:,.2f}")


def _prices(pairs: list[str] | None) -> dict[str, Decimal]:
    from bifrost.core.errors import InvalidInput
    from bifrost.core.money import to_decimal

    out = {}
    for pair in pairs or []:
        symbol, sep, price = pair.partition("=")
        if not sep:
            raise InvalidInput(f"--price must be SYMBOL=PRICE, was {pair!r}")
        out[symbol.strip().upper()] = to_decimal(price, field=f"price of {symbol}")
    return out


@app.command("harvest")
@handles_errors
def harvest(price: Annotated[list[str], typer.Option("--price", help="SYMBOL=PRICE (repeatable).")],
            file: FileOpt = None, portfolio: PortfolioOpt = None, user: UserOpt = "demo", account: AccountOpt = None,
            as_of: Annotated[str | None, typer.Option("--as-of", help="Sale date (default today).")] = None,
            method: MethodOpt = "fifo", ira: IraOpt = None, identical: GroupOpt = None, tz: TzOpt = None,
            as_json: JsonOpt = False) -> None:
    """Tax-loss harvesting candidates: lots with a loss whose sale would not be a wash sale."""
    from bifrost.compliance import harvest_candidates

    source = _source(file, portfolio, user, method, ira, identical, tz, account)
    day = date.fromisoformat(as_of) if as_of else date.today()
    result = source.tax()
    prices = _prices(price)
    candidates = [c for c in harvest_candidates(result, prices, day, identical=source.groups)
                  if source.mine(c.lot.account)]
    if as_json:
        _emit({"as_of": day, "candidates": candidates})
        return
    table = Table(title=f"Harvest candidates on {day}")
    for column in ("account", "lot", "symbol", "quantity", "loss", "term", "rebuy after"):
        table.add_column(column)
    for c in candidates:
        table.add_row(c.lot.account, c.lot.lot_id, c.lot.symbol, str(c.lot.quantity), f"{c.loss:,.2f}",
                      "long" if c.long_term else "short", str(c.rebuy_after))
    console.print(table)


@app.command("form8949")
@handles_errors
def form8949(file: FileOpt = None, portfolio: PortfolioOpt = None, user: UserOpt = "demo",
             account: AccountOpt = None, year: YearOpt = None,
             output_format: Annotated[str, typer.Option("--format", help="csv, pdf or json.")] = "csv",
             output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here (PDF needs it).")] = None,
             schedule_d: Annotated[bool, typer.Option("--schedule-d", help="CSV of the Schedule D summary.")] = False,
             reporting: Annotated[str, typer.Option("--reporting", help="reported (box A/D), not_reported (B/E), "
                                                                        "no_1099b (C/F).")] = "reported",
             method: MethodOpt = "fifo", ira: IraOpt = None, identical: GroupOpt = None, tz: TzOpt = None) -> None:
    """Form 8949 rows (box, description, dates, proceeds, basis, code W, adjustment, gain) and Schedule D."""
    from bifrost.compliance import reports
    from bifrost.core.errors import InvalidInput

    source = _source(file, portfolio, user, method, ira, identical, tz, account)
    rows = reports.form8949_rows([d for d in source.tax().disposals if source.mine(d.account)], year=year,
                                 reporting=reporting)
    if output_format == "pdf":
        if output is None:
            raise InvalidInput("--format pdf needs --output FILE.pdf")
        output.write_bytes(reports.form8949_pdf(rows, year=year))
        console.print(f"Wrote {len(rows)} rows to {output}")
        return
    if output_format == "json":
        text = json.dumps(_plain({"rows": rows, "schedule_d": reports.schedule_d(rows)}), indent=2)
    elif output_format == "csv":
        text = reports.schedule_d_csv(reports.schedule_d(rows)) if schedule_d else reports.form8949_csv(rows)
    else:
        raise InvalidInput(f"--format must be csv, pdf or json, was {output_format!r}")
    if output is not None:
        output.write_text(text)
        console.print(f"Wrote {len(rows)} rows to {output}")
    else:
        typer.echo(text, nl=False)


@app.command("pdt")
@handles_errors
def pdt(file: FileOpt = None, portfolio: PortfolioOpt = None, user: UserOpt = "demo", account: AccountOpt = None,
        as_of: Annotated[str | None, typer.Option("--as-of", help="Trade date (default: last trade's date).")] = None,
        counting: Annotated[str, typer.Option("--counting", help="opening or direction_change.")] = "opening",
        equity: Annotated[str | None, typer.Option("--equity", help="Account equity for the $25,000 test.")] = None,
        tz: TzOpt = None, as_json: JsonOpt = False) -> None:
    """Pattern-day-trader status (FINRA 4210(f)(8)(B)): day trades in the last 5 business days."""
    from bifrost.compliance.daytrading import count_day_trades, pdt_status
    from bifrost.core.errors import InvalidInput
    from bifrost.core.money import to_decimal

    source = _source(file, portfolio, user, "fifo", None, None, tz, account)
    names = sorted({t.account for t in source.trades if source.mine(t.account)})
    if not names:
        raise InvalidInput("no trades to evaluate")
    statuses = {}
    for name in names:
        own = [t for t in source.trades if t.account == name]
        day = date.fromisoformat(as_of) if as_of else max(t.trade_date for t in own)
        statuses[name] = (pdt_status(own, day, method=counting, equity=to_decimal(equity, field="equity")
                                     if equity else None), count_day_trades(own, method=counting))
    if as_json:
        _emit({name: {**_plain(status), "restricted": status.restricted, "day_trades_by_day": trades}
               for name, (status, trades) in statuses.items()})
        return
    table = Table(title=f"Pattern day trader ({counting})")
    for column in ("account", "as of", "day trades (5 days)", "% of trades", "pattern", "designated", "restricted"):
        table.add_column(column)
    for name, (status, _) in statuses.items():
        table.add_row(name, str(status.as_of), str(status.day_trades), f"{status.day_trade_pct}%",
                      "yes" if status.pattern_day_trader else "no", str(status.designated_on or "-"),
                      "yes" if status.restricted else "no")
    console.print(table)


@app.command("check")
@handles_errors
def check(symbol: Annotated[str, typer.Option("--symbol", help="Symbol to trade.")],
          side: Annotated[str, typer.Option("--side", help="buy or sell.")],
          quantity: Annotated[str, typer.Option("--quantity", help="Shares.")],
          price: Annotated[str, typer.Option("--price", help="Expected price (limit).")],
          account: Annotated[str, typer.Option("--account", "-a", help="Account (file) or portfolio name.")],
          file: FileOpt = None, user: UserOpt = "demo",
          at: Annotated[str | None, typer.Option("--at", help="ISO instant of the trade (default now).")] = None,
          margin: Annotated[bool, typer.Option("--margin/--cash", help="Margin account (day-trade rule).")] = True,
          equity: Annotated[str | None, typer.Option("--equity", help="Account equity.")] = None,
          counting: Annotated[str, typer.Option("--counting", help="opening or direction_change.")] = "opening",
          ira: IraOpt = None, identical: GroupOpt = None, tz: TzOpt = None, as_json: JsonOpt = False) -> None:
    """Pre-trade what-if: would this order be a wash sale (and for how much) or a 4th day trade?"""
    from bifrost.compliance.pretrade import DayTradeCheck, WashSaleCheck
    from bifrost.core.money import to_decimal
    from bifrost.orders.pretrade import AccountType, PreTradeChain, PreTradeContext
    from bifrost.orders.types import OrderRequest

    source = _source(file, None if file else account, user, "fifo", ira, identical, tz, account if file else None)
    name = source.account or account
    now = datetime.fromisoformat(at) if at else datetime.now(UTC)
    if now.tzinfo is None:
        from zoneinfo import ZoneInfo

        now = now.replace(tzinfo=ZoneInfo(tz or "America/New_York"))
    order = OrderRequest(client_order_id="cli-what-if", symbol=symbol.upper(), side=side, quantity=quantity,
                         order_type="limit", limit_price=price)
    chain = PreTradeChain([
        WashSaleCheck(trades=source.trades, account=name, accounts=source.profiles, identical=source.groups),
        DayTradeCheck(trades=[t for t in source.trades if t.account == name], account=name, method=counting,
                      equity=to_decimal(equity, field="equity") if equity else None),
    ])
    result = chain.check(order, PreTradeContext(portfolio_id=name, now=now,
                                                account_type=AccountType.MARGIN if margin else AccountType.CASH))
    if as_json:
        _emit({"decision": result.decision.value, "findings": [f.as_dict() for f in result.findings]})
        return
    console.print(f"Decision: [bold]{result.decision.value}[/bold]")
    for finding in result.findings:
        console.print(f"  {finding.severity.value}: {finding.message}")


@app.command("audit-verify")
@handles_errors
def audit_verify(as_json: JsonOpt = False) -> None:
    """Verify the audit trail's hash chain; names the first altered or missing entry (exit code 1)."""
    _django()
    from bifrost_web.compliance import services

    checked, broken = services.audit_verify()
    if as_json:
        _emit({"checked": checked, "intact": broken is None,
               "first_broken": None if broken is None else {"sequence": broken.sequence, "reason": broken.reason}})
    elif broken is None:
        console.print(f"[green]Audit chain intact[/green]: {checked} entries verified.")
    else:
        console.print(f"[red]Audit chain broken at entry #{broken.sequence}[/red]: {broken.reason} "
                      f"({checked} entries before it verified).")
    if broken is not None:
        raise typer.Exit(1)


@app.command("audit-export")
@handles_errors
def audit_export(output: Annotated[Path, typer.Option("--output", "-o", help="JSON Lines file to write.")]) -> None:
    """Export the audit trail (every entry with its hashes) as JSON Lines."""
    _django()
    from bifrost_web.compliance import models

    count = 0
    with output.open("w") as handle:
        for entry in models.AuditEntry.objects.order_by("sequence").iterator(chunk_size=2000):
            handle.write(json.dumps({**entry.chain_fields(), "previous_hash": entry.previous_hash,
                                     "hash": entry.entry_hash}) + "\n")
            count += 1
    console.print(f"Wrote {count} audit entries to {output}")


app.command("8949", help="Alias of form8949.")(form8949)
app.command("day-trades", help="Alias of pdt: day trades and pattern-day-trader status.")(pdt)


@app.command("positions")
@handles_errors
def positions(file: FileOpt = None, user: UserOpt = "demo",
              alert_pct: Annotated[str, typer.Option("--alert-pct", help="Ownership early-warning level.")] = "4.5",
              tz: TzOpt = None, as_json: JsonOpt = False) -> None:
    """Position reporting: large-trader activity (Rule 13h-1) and, for stored portfolios, 5% ownership."""
    from bifrost.compliance.positions import large_trader_activity
    from bifrost.core.money import to_decimal

    data: dict[str, Any] = {}
    if file is not None:
        source = _source(file, None, user, "fifo", None, None, tz, None)
        data["large_trader"] = large_trader_activity(source.trades)
    else:
        _django()
        from bifrost_cli.trading import _user
        from bifrost_web.compliance import services
        from bifrost_web.trading import models as tr_models

        owner = _user(user)
        data["ownership"] = services.ownership_report(user=owner, alert_pct=to_decimal(alert_pct, field="alert_pct"))
        data["large_trader"] = large_trader_activity(
            services.trades_for(tr_models.Portfolio.objects.filter(owner=owner)))
    if as_json:
        _emit(data)
        return
    if "ownership" in data:
        table = Table(title="Beneficial ownership (13D/13G above 5%)")
        for column in ("symbol", "shares", "outstanding", "%", "level"):
            table.add_column(column)
        for f in data["ownership"]:
            table.add_row(f.symbol, str(f.shares), str(f.shares_outstanding or "?"), str(f.percent or "?"), f.level)
        console.print(table)
    table = Table(title="Large-trader identifying activity (Rule 13h-1)")
    for column in ("period", "start", "shares", "notional", "by"):
        table.add_column(column)
    for b in data["large_trader"]:
        table.add_row(b.period, str(b.start), f"{b.shares:,}", f"{b.notional:,.2f}", b.by)
    console.print(table)


@app.command("margin")
@handles_errors
def margin(portfolio: PortfolioOpt = None, user: UserOpt = "demo",
           cash: Annotated[str | None, typer.Option("--cash", help="Cash (without --portfolio).")] = None,
           position: Annotated[list[str] | None, typer.Option("--position", help="SYMBOL=QTY (repeatable).")] = None,
           price: Annotated[list[str] | None, typer.Option("--price", help="SYMBOL=PRICE (repeatable).")] = None,
           as_json: JsonOpt = False) -> None:
    """Intraday margin requirement, equity and deficit (2026 intraday margin standard)."""
    from bifrost.compliance.daytrading import intraday_margin
    from bifrost.core.errors import InvalidInput
    from bifrost.core.money import to_decimal

    prices = _prices(price)
    if portfolio is not None:
        _django()
        from bifrost_cli.trading import _portfolio_id, _user
        from bifrost_web.compliance import services
        from bifrost_web.trading import models as tr_models

        row = tr_models.Portfolio.objects.get(pk=_portfolio_id(_user(user), portfolio))
        held = {s: Decimal(q) for s, q in (row.position_quantities or {}).items() if Decimal(q)}
        prices = {**services.last_prices(held), **prices}
        cash_value = row.cash_balance
    else:
        if cash is None:
            raise InvalidInput("give --portfolio, or --cash with --position and --price")
        held = {s: q for s, q in _prices(position).items()}
        cash_value = to_decimal(cash, field="cash")
    state = intraday_margin(cash=cash_value, positions=held, prices=prices)
    if as_json:
        _emit(state)
        return
    console.print(f"equity {state.equity:,.2f}; intraday requirement {state.requirement:,.2f}; "
                  f"deficit {state.deficit:,.2f}" + (" [red](orders that increase it are blocked)[/red]"
                                                     if state.deficit else ""))


@app.command("report")
@handles_errors
def report(kind: Annotated[str, typer.Option("--kind", help="form8949, ownership, 13f or large_trader.")],
           period: Annotated[str, typer.Option("--period", help="2024 or 2024Q4.")],
           portfolio: PortfolioOpt = None, user: UserOpt = "demo",
           output: Annotated[Path | None, typer.Option("--output", "-o", help="Also write the CSV or PDF here.")]
           = None, as_json: JsonOpt = False) -> None:
    """Generate and store a new version of a regulatory report (download it from the API or with -o)."""
    _django()
    from bifrost_cli.trading import _portfolio_id, _user
    from bifrost_web.compliance import services

    owner = _user(user)
    run = services.report_generate(user=owner, kind=kind, period=period,
                                   portfolio_id=_portfolio_id(owner, portfolio) if portfolio else None)
    if output is not None:
        if output.suffix == ".pdf":
            output.write_bytes(bytes(run.pdf))
        else:
            output.write_text(run.csv_text)
    if as_json:
        _emit({"id": run.pk, "kind": run.kind, "period": run.period, "version": run.version, "sha256": run.sha256,
               "summary": run.summary})
        return
    console.print(f"Stored {run.kind} {run.period} version {run.version} (sha256 {run.sha256[:12]}...)"
                  + (f"; wrote {output}" if output else ""))
