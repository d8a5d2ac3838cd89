"""The ``bifrost`` command-line tool."""

from __future__ import annotations

import functools
import os
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(help="Bifrost Trader: research, backtest, paper-trade and live-trade equities.",
                  no_args_is_help=True, add_completion=False)
data_app = typer.Typer(help="Market data: ingest, inspect, resample, generate and check bars.", no_args_is_help=True)
app.add_typer(data_app, name="data")
user_app = typer.Typer(help="User accounts and API tokens.", no_args_is_help=True)
app.add_typer(user_app, name="user")

console = Console()
err_console = Console(stderr=True)


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bifrost_web.config.settings.local")
    import django

    django.setup()


def handles_errors(func):
    """Turn Bifrost errors into one red line and exit code 2 instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from bifrost.core.errors import BifrostError

        try:
            return func(*args, **kwargs)
        except BifrostError as exc:
            err_console.print(f"[red]error[/red] ({exc.code}): {exc.message}")
            violations = exc.details.get("violations") if isinstance(exc.details, dict) else None
            for line in (violations or [])[:10]:
                err_console.print(f"  - {line}")
            raise typer.Exit(2) from None

    return wrapper


def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err_console, transient=False)


def _parse_when(value: str | None, field: str, default: datetime | None = None) -> datetime | None:
    from bifrost.core.errors import InvalidInput

    if value is None:
        return default
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field} must be an ISO date or datetime such as 2024-01-31, was {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# Platform
# ---------------------------------------------------------------------------------------------

@app.command()
def setup(
    demo: Annotated[bool, typer.Option(help="Create the demo login and load bundled demo data.")] = True,
) -> None:
    """Create or migrate the database, and (with --demo) the demo login and demo data."""
    _django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    console.print("database ready")
    if demo:
        _ensure_demo()


def _ensure_demo() -> None:
    from django.contrib.auth import get_user_model

    from bifrost_web.marketdata import models, services

    user_model = get_user_model()
    if not user_model.objects.filter(username="demo").exists():
        user_model.objects.create_user("demo", password="demo", is_staff=True, is_superuser=True)
        console.print("created demo login: [bold]demo[/bold] / [bold]demo[/bold]")
    if not models.Instrument.objects.filter(symbol="^GSPC").exists():
        with _progress() as progress:
            task = progress.add_task("loading S&P 500 and NASDAQ history (arch)", total=2)
            services.demo_load(progress=lambda done, total: progress.update(task, completed=done))
    if not models.Instrument.objects.filter(symbol="SYN000").exists():
        today = datetime.now(UTC).date() - timedelta(days=1)  # only sessions that have closed
        with _progress() as progress:
            task = progress.add_task("generating a synthetic market (8 symbols, 1d and 1m)", total=16)
            services.synthetic_generate(symbols=8, start=today - timedelta(days=3 * 365), end=today, seed=7,
                                        progress=lambda done, total: progress.update(task, completed=done))
            services.synthetic_generate(symbols=8, start=today - timedelta(days=30), end=today, seed=7,
                                        timeframe="1m",
                                        progress=lambda done, total: progress.update(task, completed=8 + done))


@app.command()
@handles_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option(help="Create the demo login and demo data if missing.")] = False,
    workers: Annotated[int, typer.Option(help="Web worker processes (uvicorn).")] = 1,
    migrate: Annotated[bool, typer.Option(help="Apply database migrations first.")] = True,
) -> None:
    """Run the web portal and REST API (ASGI, uvicorn)."""
    _django()
    from django.core.management import call_command

    if migrate:
        call_command("migrate", interactive=False, verbosity=0)
    if demo:
        _ensure_demo()
    import uvicorn

    console.print(f"Bifrost portal on [bold]http://{host}:{port}/[/bold]" + ("  (login demo / demo)" if demo else ""))
    uvicorn.run("bifrost_web.config.asgi:application", host=host, port=port, workers=workers, log_level="info")


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(help="Worker processes.")] = 2,
    beat: Annotated[bool, typer.Option(help="Also run the periodic scheduler (celery beat) in this worker.")] = False,
    queue: Annotated[str | None, typer.Option(help="Queue to consume (default BIFROST_CELERY_QUEUE).")] = None,
    loglevel: Annotated[str, typer.Option(help="Log level.")] = "info",
) -> None:
    """Run a Celery worker (needs REDIS_URL or CELERY_BROKER_URL)."""
    _django()
    from django.conf import settings

    from bifrost_web.config.celery_app import app as celery_app

    if settings.CELERY_TASK_ALWAYS_EAGER:
        err_console.print("[red]error[/red]: no broker configured; set REDIS_URL (tasks run in-process without one)")
        raise typer.Exit(2)
    argv = ["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency}",
            f"--queues={queue or settings.CELERY_TASK_DEFAULT_QUEUE}"]
    if beat:
        argv.append("--beat")
    celery_app.worker_main(argv)


@app.command()
def doctor() -> None:
    """Print what is configured, what is reachable, versions, and whether TimescaleDB is present."""
    _django()
    from bifrost_cli.doctor import run_doctor

    ok = run_doctor(console)
    raise typer.Exit(0 if ok else 1)


@user_app.command("create")
@handles_errors
def user_create(
    username: Annotated[str, typer.Argument(help="Login name.")],
    email: Annotated[str, typer.Option(help="E-mail address for alerts.")] = "",
    staff: Annotated[bool, typer.Option(help="May use the admin and write market data.")] = False,
    password: Annotated[str | None, typer.Option(help="Password (prompted when omitted).", hide_input=True)] = None,
) -> None:
    """Create a user (prompts for the password unless --password is given)."""
    _django()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from bifrost.core.errors import InvalidInput, StateConflict

    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise StateConflict(f"user {username!r} already exists")
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    candidate = user_model(username=username, email=email)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise InvalidInput("password rejected: " + " ".join(exc.messages)) from None
    user_model.objects.create_user(username, email=email, password=password, is_staff=staff)
    console.print(f"created user {username}" + (" (staff)" if staff else ""))


@user_app.command("token")
@handles_errors
def user_token(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Print the user's REST API token, creating it if needed."""
    _django()
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from bifrost.core.errors import NotFoundError

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise NotFoundError(f"no user named {username!r}")
    token, _ = Token.objects.get_or_create(user=user)
    console.print(token.key)


# ---------------------------------------------------------------------------------------------
# Market data
# ---------------------------------------------------------------------------------------------

@data_app.command("ingest")
@handles_errors
def data_ingest(
    symbols: Annotated[list[str] | None, typer.Argument(help="Symbols to download from Yahoo Finance.")] = None,
    timeframe: Annotated[str | None, typer.Option("--timeframe", "-t",
                                                  help="1m, 5m, 15m, 1h or 1d (downloads: default 1d; files: inferred).")] = None,
    start: Annotated[str | None, typer.Option(help="Start date (ISO), default one year ago.")] = None,
    end: Annotated[str | None, typer.Option(help="End date (ISO, exclusive), default now.")] = None,
    snapshot: Annotated[bool, typer.Option(help="Also record a fundamentals/governance snapshot.")] = False,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Import a CSV/Parquet file instead.")] = None,
    symbol: Annotated[str | None, typer.Option(help="With --file: symbol when the file has no symbol column.")] = None,
    tz: Annotated[str | None, typer.Option(help="With --file: time zone of naive timestamps.")] = None,
    gaps: Annotated[str | None, typer.Option(help="Gap policy: reject, warn or ignore.")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Load the bundled S&P 500 and NASDAQ history.")] = False,
) -> None:
    """Ingest bars from Yahoo Finance, a CSV/Parquet file, or the bundled demo data."""
    _django()
    from bifrost_web.marketdata import services

    results = []
    if demo:
        with _progress() as progress:
            task = progress.add_task("demo data", total=2)
            results = services.demo_load(progress=lambda d, t: progress.update(task, completed=d, total=t))
    elif file is not None:
        if not file.exists():
            from bifrost.core.errors import InvalidInput

            raise InvalidInput(f"file not found: {file}")
        with _progress() as progress:
            task = progress.add_task(f"importing {file.name}", total=None)
            results = services.file_import(path=str(file), symbol=symbol, timeframe=timeframe, tz=tz, gap_policy=gaps,
                                           progress=lambda d, t: progress.update(task, completed=d, total=t))
    else:
        if not symbols:
            err_console.print("[red]error[/red]: give symbols, --file or --demo")
            raise typer.Exit(2)
        from bifrost_web.marketdata.tasks import get_provider

        now = datetime.now(UTC)
        start_dt = _parse_when(start, "start", now - timedelta(days=365))
        end_dt = _parse_when(end, "end", now)
        provider = get_provider()
        failures = []
        with _progress() as progress:
            task = progress.add_task("downloading", total=len(symbols))
            from bifrost.core.errors import BifrostError

            for sym in symbols:
                progress.update(task, description=f"downloading {sym}")
                try:
                    results.append(services.provider_refresh(provider=provider, symbol=sym, timeframe=timeframe or "1d",
                                                             start=start_dt, end=end_dt, with_snapshot=snapshot))
                except BifrostError as exc:
                    failures.append((sym, exc.message))
                progress.advance(task)
        for sym, message in failures:
            err_console.print(f"[red]failed[/red] {sym}: {message}")
        if failures and not results:
            raise typer.Exit(2)
    _print_results(results)


def _print_results(results) -> None:
    table = Table("symbol", "timeframe", "bars", "first", "last", "method", "warnings")
    for r in results:
        table.add_row(r.symbol, r.timeframe.value, str(r.rows), str(r.first_ts or ""), str(r.last_ts or ""), r.method,
                      str(len(r.warnings)))
    console.print(table)


@data_app.command("list")
@handles_errors
def data_list(query: Annotated[str, typer.Argument(help="Symbol prefix or name fragment.")] = "") -> None:
    """List instruments and their stored series."""
    _django()
    from bifrost_web.marketdata import selectors

    instruments = list(selectors.instrument_search(query=query, limit=1000))
    summaries = {}
    for s in selectors.series_summaries(symbols=[i.symbol for i in instruments]):
        summaries.setdefault(s.symbol, []).append(f"{s.timeframe}:{s.bars}")
    table = Table("symbol", "name", "class", "exchange", "sector", "series")
    for i in instruments:
        table.add_row(i.symbol, i.name, i.asset_class, i.exchange, i.sector, " ".join(summaries.get(i.symbol, [])))
    console.print(table)


@data_app.command("show")
@handles_errors
def data_show(
    symbol: Annotated[str, typer.Argument(help="Symbol to show.")],
    timeframe: Annotated[str, typer.Option("--timeframe", "-t", help="1m, 5m, 15m, 1h or 1d.")] = "1d",
    start: Annotated[str | None, typer.Option(help="Start (ISO).")] = None,
    end: Annotated[str | None, typer.Option(help="End (ISO, exclusive).")] = None,
    adjust: Annotated[str, typer.Option(help="none, splits or all (splits and dividends).")] = "none",
    rows: Annotated[int, typer.Option(help="Last N bars to print (0 = all).")] = 20,
    output: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Print stored bars (resampled from a finer timeframe when needed)."""
    _django()
    from bifrost_web.marketdata import selectors

    bars = selectors.bars_read(symbol=symbol, timeframe=timeframe, start=_parse_when(start, "start"),
                               end=_parse_when(end, "end"), adjust=adjust)
    if rows:
        bars = bars.tail(rows)
    if output == "csv":
        sys.stdout.write(bars.to_csv(date_format="%Y-%m-%dT%H:%M:%S%z"))
        return
    if output == "json":
        sys.stdout.write(bars.reset_index().to_json(orient="records", date_format="iso") + "\n")
        return
    table = Table("ts", "open", "high", "low", "close", "volume", title=f"{symbol.upper()} {timeframe}")
    for ts, row in bars.iterrows():
        table.add_row(ts.isoformat(), *(f"{row[c]:.4f}" for c in ("open", "high", "low", "close")), f"{row['volume']:.0f}")
    console.print(table)


@data_app.command("resample")
@handles_errors
def data_resample(
    symbol: Annotated[str, typer.Argument(help="Symbol whose stored bars to resample.")],
    source: Annotated[str, typer.Option("--from", help="Stored timeframe to read.")] = "1m",
    target: Annotated[str, typer.Option("--to", help="Coarser timeframe to produce.")] = "1d",
    store: Annotated[bool, typer.Option(help="Store the result as bars of the target timeframe.")] = False,
    rows: Annotated[int, typer.Option(help="Last N bars to print.")] = 10,
) -> None:
    """Resample stored bars session-aware (exchange calendar: sessions, half days, holidays)."""
    _django()
    from bifrost.marketdata.resample import resample_bars
    from bifrost.marketdata.types import Timeframe
    from bifrost_web.marketdata import selectors, services, storage

    instrument = selectors.instrument_get(symbol=symbol)
    src, dst = Timeframe.parse(source), Timeframe.parse(target)
    bars = storage.read_bars(instrument.id, src)
    out = resample_bars(bars, source=src, target=dst, calendar=instrument.calendar)
    console.print(f"{len(bars)} {src.value} bars -> {len(out)} {dst.value} bars")
    if store:
        result = services.bars_ingest(symbol=instrument.symbol, timeframe=dst, bars=out, source=f"resample:{src.value}",
                                      gap_policy="warn")
        console.print(f"stored {result.rows} bars")
    console.print(out.tail(rows).to_string())


@data_app.command("generate")
@handles_errors
def data_generate(
    symbols: Annotated[int, typer.Option(help="Number of symbols.")] = 10,
    start: Annotated[str, typer.Option(help="First date (ISO).")] = "2023-01-01",
    end: Annotated[str, typer.Option(help="Last date (ISO).")] = "2023-12-31",
    timeframe: Annotated[str, typer.Option("--timeframe", "-t", help="1m, 5m, 15m, 1h or 1d.")] = "1d",
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same market.")] = 7,
    sectors: Annotated[int, typer.Option(help="Number of sectors.")] = 5,
    prefix: Annotated[str, typer.Option(help="Symbol prefix (SYN -> SYN000, SYN001, ...).")] = "SYN",
) -> None:
    """Generate and store a seeded synthetic market (correlated, fat-tailed, with regimes)."""
    _django()
    from bifrost_web.marketdata import services

    with _progress() as progress:
        task = progress.add_task("storing synthetic symbols", total=symbols)
        results = services.synthetic_generate(
            symbols=symbols, start=date.fromisoformat(start), end=date.fromisoformat(end), timeframe=timeframe,
            seed=seed, sectors=sectors, prefix=prefix, progress=lambda d, t: progress.update(task, completed=d))
    _print_results(results)


@data_app.command("quality")
@handles_errors
def data_quality(
    symbol: Annotated[str, typer.Argument(help="Symbol to check.")],
    timeframe: Annotated[str, typer.Option("--timeframe", "-t", help="1m, 5m, 15m, 1h or 1d.")] = "1d",
    gaps: Annotated[str | None, typer.Option(help="Gap policy: reject, warn or ignore.")] = None,
) -> None:
    """Re-validate stored bars: duplicates, gaps against the calendar, bad prices and volumes."""
    _django()
    from bifrost_web.marketdata import selectors

    report = selectors.bars_quality(symbol=symbol, timeframe=timeframe, gap_policy=gaps)
    console.print(report.summary())
    for v in report.violations[:50]:
        console.print(f"[red]violation[/red] {v}")
    for w in report.warnings[:20]:
        console.print(f"[yellow]warning[/yellow] {w}")
    raise typer.Exit(0 if report.ok else 1)


@data_app.command("export")
@handles_errors
def data_export(
    symbol: Annotated[str, typer.Argument(help="Symbol to export.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file: .csv, .csv.gz or .parquet.")],
    timeframe: Annotated[str, typer.Option("--timeframe", "-t", help="1m, 5m, 15m, 1h or 1d.")] = "1d",
) -> None:
    """Write stored bars to a file in the documented import schema."""
    _django()
    from bifrost.adapters.files import FileBars, write_bars_file
    from bifrost.marketdata.types import Timeframe
    from bifrost_web.marketdata import selectors

    bars = selectors.bars_read(symbol=symbol, timeframe=timeframe)
    write_bars_file(out, [FileBars(symbol=symbol.upper(), timeframe=Timeframe.parse(timeframe), bars=bars)])
    console.print(f"wrote {len(bars)} bars to {out}")




def _register_trading() -> None:
    from bifrost_cli.trading import order_app, portfolio_app

    app.add_typer(portfolio_app, name="portfolio")
    app.add_typer(order_app, name="order")


_register_trading()


def _register_services() -> None:
    from bifrost_cli import backtest, compliance, execution, risk

    app.add_typer(backtest.app, name="backtest")
    app.add_typer(risk.app, name="risk")
    app.add_typer(execution.app, name="execution")
    app.add_typer(compliance.app, name="compliance")


_register_services()


if __name__ == "__main__":  # pragma: no cover
    app()
