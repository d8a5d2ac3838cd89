"""`bifrost backtest`: backtests: run, list, show, compare and optimise strategies."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from bifrost_cli.main import _django, _progress, console, err_console, handles_errors
from bifrost_cli.trading import UserOpt, _user

app = typer.Typer(help="Backtests: run, list, show, compare and optimise strategies.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
StartOpt = Annotated[str | None, typer.Option(help="First date (ISO, UTC), e.g. 2020-01-01.")]
EndOpt = Annotated[str | None, typer.Option(help="End date, exclusive (ISO, UTC).")]
TimeframeOpt = Annotated[str, typer.Option(help="Bar timeframe: 1m, 5m, 1h, 1d, ...")]
CashOpt = Annotated[str, typer.Option(help="Starting cash.")]
CommissionOpt = Annotated[float | None, typer.Option("--commission-bps", help="Commission in basis points.")]

_HEADLINE = [("total_return", "total return", "pct"), ("cagr", "CAGR", "pct"), ("sharpe_ratio", "Sharpe", "num"),
             ("sortino_ratio", "Sortino", "num"), ("max_drawdown", "max drawdown", "pct"),
             ("n_trades", "trades", "int"), ("win_rate", "win rate", "pct"), ("profit_factor", "profit factor", "num"),
             ("exposure", "exposure", "pct"), ("fees_paid", "fees paid", "money"),
             ("final_equity", "final equity", "money")]


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _split_args(args: list[str]) -> tuple[list[str], dict[str, Any]]:
    """Positional words: ``KEY=VALUE`` are parameters, the rest symbols."""
    symbols, params = [], {}
    for arg in args:
        if "=" in arg:
            key, value = arg.split("=", 1)
            params[key.strip()] = _value(value.strip())
        else:
            symbols.extend(s for s in arg.replace(",", " ").split() if s)
    return symbols, params


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    return {"pct": f"{value:.2%}", "int": f"{int(value)}", "money": f"{value:,.2f}"}.get(kind, f"{value:.3f}")


def _summary(backtest) -> dict[str, Any]:
    return {"id": backtest.pk, "name": backtest.name, "strategy": backtest.strategy, "params": backtest.params,
            "symbols": backtest.symbols, "timeframe": backtest.timeframe, "engine": backtest.engine,
            "source": backtest.source, "status": backtest.status, "error": backtest.error,
            "initial_cash": str(backtest.initial_cash), "metrics": backtest.metrics,
            "created_at": backtest.created_at.isoformat()}


def _print_metrics(backtest) -> None:
    console.print(f"[bold]#{backtest.pk} {backtest.name}[/bold]  {backtest.strategy} {backtest.params}  "
                  f"{' '.join(backtest.symbols)} {backtest.timeframe}  [{backtest.status}]")
    if backtest.error:
        console.print(f"[red]{backtest.error}[/red]")
    table = Table("metric", "value")
    for key, label, kind in _HEADLINE:
        if key in (backtest.metrics or {}):
            table.add_row(label, _fmt(backtest.metrics[key], kind))
    console.print(table)


@app.command("run")
@handles_errors
def run_command(
    strategy: Annotated[str, typer.Argument(help="Registered strategy, e.g. sma_crossover.")],
    args: Annotated[list[str], typer.Argument(help="Symbols and KEY=VALUE parameters, e.g. AAPL fast=10 slow=30.")],
    start: StartOpt = None, end: EndOpt = None, timeframe: TimeframeOpt = "1d", cash: CashOpt = "100000",
    commission_bps: CommissionOpt = None,
    benchmark: Annotated[str | None, typer.Option(help="Benchmark symbol, e.g. ^GSPC.")] = None,
    name: Annotated[str, typer.Option(help="Name to store it under.")] = "",
    user: UserOpt = "demo", as_json: JsonOpt = False,
) -> None:
    """Run a strategy on stored bars in this process and store the result."""
    _django()
    from bifrost_web.backtests import services

    symbols, params = _split_args(args)
    owner = _user(user)
    with _progress() as progress:
        task = progress.add_task(f"{strategy} {' '.join(symbols)}", total=None)
        backtest = services.backtest_run(
            user=owner, strategy=strategy, symbols=symbols, timeframe=timeframe, start=start, end=end,
            params=params, cash=cash, commission_bps=commission_bps, benchmark=benchmark, name=name,
            progress=lambda done, total: progress.update(task, completed=done, total=total))
    if as_json:
        console.print_json(json.dumps(_summary(backtest)))
        return
    _print_metrics(backtest)


@app.command("list")
@handles_errors
def list_command(user: UserOpt = "demo", as_json: JsonOpt = False,
                 limit: Annotated[int, typer.Option(help="Newest N.")] = 50,
                 strategy: Annotated[str | None, typer.Option(help="Only this strategy.")] = None) -> None:
    """Stored backtests, newest first."""
    _django()
    from bifrost_web.backtests import selectors

    backtests = list(selectors.backtests_for(user=_user(user), strategy=strategy)[:limit])
    if as_json:
        console.print_json(json.dumps([_summary(b) for b in backtests]))
        return
    table = Table("id", "name", "strategy", "symbols", "source", "status", "total return", "Sharpe", "max DD",
                  "trades", "created")
    for b in backtests:
        m = b.metrics or {}
        table.add_row(str(b.pk), b.name, b.strategy, " ".join(b.symbols), b.source, b.status,
                      _fmt(m.get("total_return"), "pct"), _fmt(m.get("sharpe_ratio"), "num"),
                      _fmt(m.get("max_drawdown"), "pct"), _fmt(m.get("n_trades"), "int"),
                      b.created_at.strftime("%Y-%m-%d %H:%M"))
    console.print(table)


@app.command("show")
@handles_errors
def show_command(backtest_id: Annotated[int, typer.Argument(help="Backtest id.")], user: UserOpt = "demo",
                 as_json: JsonOpt = False,
                 html: Annotated[Path | None, typer.Option("--html", help="Write the HTML tear sheet here.")] = None,
                 trades: Annotated[bool, typer.Option(help="Also list the round-trip trades.")] = False) -> None:
    """Metrics of one backtest; --html PATH exports the tear sheet."""
    _django()
    from bifrost_web.backtests import reports, selectors

    backtest = selectors.backtest_get(user=_user(user), backtest_id=backtest_id)
    if html is not None:
        record = selectors.record_of(backtest)
        html.write_text(reports.tearsheet_document(record, title=f"{backtest.name or backtest.strategy} "
                                                                f"(#{backtest.pk})"), encoding="utf-8")
        err_console.print(f"tear sheet written to {html}")
    if as_json:
        console.print_json(json.dumps(_summary(backtest)))
        return
    _print_metrics(backtest)
    if trades and backtest.status == "done":
        table = Table("symbol", "direction", "entry", "exit", "qty", "entry px", "exit px", "P&L")
        for t in selectors.record_of(backtest).trades().itertuples():
            table.add_row(t.symbol, t.direction, str(t.entry_ts), str(t.exit_ts), f"{t.quantity:g}",
                          f"{t.entry_price:.4f}", f"{t.exit_price:.4f}", f"{t.pnl:,.2f}")
        console.print(table)


@app.command("analyse")
@handles_errors
def analyse_command(backtest_id: Annotated[int, typer.Argument(help="Backtest id.")],
                    section: Annotated[list[str] | None, typer.Option(
                        "--section", "-s", help="risk, tca or tax (repeat; default all).")] = None,
                    confidence: Annotated[float, typer.Option(help="VaR confidence level.")] = 0.99,
                    user: UserOpt = "demo", as_json: JsonOpt = False) -> None:
    """Risk, transaction costs and tax of a stored backtest: the services on a backtest."""
    _django()
    from bifrost_web.backtests import services

    data = services.backtest_analysis(user=_user(user), backtest_id=backtest_id,
                                      sections=section or ["risk", "tca", "tax"], confidence=confidence)
    if as_json:
        console.print_json(json.dumps(data))
        return
    if "risk" in data:
        risk = data["risk"]
        table = Table("method", f"VaR {risk['confidence']:.0%}", "ES", title=f"risk over {risk['days']} days")
        for method, values in risk["var"].items():
            table.add_row(method, f"{values['var']:.2%}", f"{values['es']:.2%}")
        console.print(table)
        console.print(f"max drawdown {risk['max_drawdown']:.2%}, volatility {risk['volatility_annual']:.2%} a year")
        if "var_backtest" in risk:
            vb = risk["var_backtest"]
            console.print(f"VaR backtest: {vb['exceptions']} exceptions in {vb['observations']} days "
                          f"({vb['expected_exceptions']:.1f} expected), Kupiec p={vb['kupiec_pvalue']:.3f}, "
                          f"zone {vb['zone']}")
    if "tca" in data:
        summary = data["tca"]["summary"]
        console.print("transaction costs: " + ", ".join(f"{k} {v}" for k, v in summary.items()
                                                        if isinstance(v, (int, float)) and k.endswith("bps")))
    if "tax" in data:
        tax = data["tax"]
        console.print(f"tax: realised {tax['realised']}, {tax['wash_sales']} wash sales disallowing "
                      f"{tax['disallowed']}, {tax['open_lots']} open lots")


@app.command("compare")
@handles_errors
def compare_command(ids: Annotated[list[int], typer.Argument(help="Two or more backtest ids.")],
                    user: UserOpt = "demo", as_json: JsonOpt = False) -> None:
    """Metrics of several backtests side by side."""
    _django()
    from bifrost_web.backtests import services

    comparison = services.backtest_compare(user=_user(user), ids=ids)
    if as_json:
        console.print_json(json.dumps(comparison["backtests"]))
        return
    columns = comparison["backtests"]
    table = Table("metric", *[f"#{c['id']} {c['name']}" for c in columns])
    table.add_row("strategy", *[c["strategy"] for c in columns])
    table.add_row("params", *[json.dumps(c["params"]) for c in columns])
    for key, label, kind in _HEADLINE:
        table.add_row(label, *[_fmt((c["metrics"] or {}).get(key), kind) for c in columns])
    console.print(table)


def _space(specs: list[str], space_json: str | None) -> dict[str, Any]:
    from bifrost.core.errors import InvalidInput

    if space_json:
        try:
            return json.loads(space_json)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"--space must be JSON: {exc}") from None
    out: dict[str, Any] = {}
    for spec in specs:
        if "=" not in spec:
            raise InvalidInput(f"parameter range {spec!r} must be NAME=v1,v2,... or NAME=low:high[:step|:log]")
        name, text = spec.split("=", 1)
        if ":" in text:
            parts = text.split(":")
            if len(parts) not in (2, 3):
                raise InvalidInput(f"range {spec!r} must be low:high[:step|:log]")
            entry: dict[str, Any] = {"low": _value(parts[0]), "high": _value(parts[1])}
            if len(parts) == 3:
                if parts[2] == "log":
                    entry["log"] = True
                else:
                    entry["step"] = _value(parts[2])
            out[name] = entry
        else:
            out[name] = [_value(v) for v in text.split(",") if v]
    return out


@app.command("optimize")
@handles_errors
def optimize_command(
    strategy: Annotated[str, typer.Argument(help="Registered strategy, e.g. sma_crossover.")],
    args: Annotated[list[str], typer.Argument(help="Symbols and fixed KEY=VALUE parameters.")],
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="Search range: NAME=v1,v2,... or NAME=low:high[:step|:log]. Repeat.")] = None,
    space_json: Annotated[str | None, typer.Option("--space", help="Whole space as JSON instead of -p.")] = None,
    method: Annotated[str, typer.Option(help="grid, random or optuna.")] = "grid",
    trials: Annotated[int | None, typer.Option(help="Trials for random/optuna.")] = None,
    objective: Annotated[str, typer.Option(help="Metric to optimise.")] = "sharpe_ratio",
    minimize: Annotated[bool, typer.Option(help="Minimise the objective instead.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of random/optuna sampling.")] = 0,
    chunk_size: Annotated[int, typer.Option(help="Trials per worker task.")] = 8,
    workers: Annotated[bool | None, typer.Option(
        "--workers/--in-process", help="Fan out over Celery workers (default when REDIS_URL is set).")] = None,
    start: StartOpt = None, end: EndOpt = None, timeframe: TimeframeOpt = "1d", cash: CashOpt = "100000",
    commission_bps: CommissionOpt = None, name: Annotated[str, typer.Option(help="Sweep name.")] = "",
    user: UserOpt = "demo", as_json: JsonOpt = False,
) -> None:
    """Grid, random or Optuna search with the deflated Sharpe ratio and PBO of the sweep."""
    _django()
    from bifrost.core.errors import ConfigurationError
    from bifrost_web.backtests import models, services
    from bifrost_web.config.celery_app import app as celery_app

    symbols, fixed = _split_args(args)
    eager = bool(celery_app.conf.task_always_eager)  # no broker configured: tasks would run in this process
    use_workers = (not eager) if workers is None else workers
    if use_workers and eager:
        raise ConfigurationError("--workers needs a broker: set REDIS_URL (or run --in-process)")
    sweep = services.sweep_create(
        user=_user(user), strategy=strategy, method=method, space_spec=_space(param or [], space_json),
        symbols=symbols, timeframe=timeframe, start=start, end=end, n_trials=trials, objective=objective,
        maximize=not minimize, seed=seed, chunk_size=chunk_size, fixed_params=fixed, cash=cash,
        commission_bps=commission_bps, name=name)
    with _progress() as progress:
        task = progress.add_task(f"sweep #{sweep.pk} {method} ({'workers' if use_workers else 'in-process'})",
                                 total=sweep.n_trials)
        if use_workers:
            services.sweep_dispatch(sweep_id=sweep.pk)
            while True:  # the bar follows the trials the workers have written to the database
                sweep.refresh_from_db()
                progress.update(task, completed=sweep.trials_done)
                if sweep.status in (models.RunStatus.DONE, models.RunStatus.FAILED):
                    break
                time.sleep(0.5)
        else:
            sweep = services.sweep_run_inline(
                sweep_id=sweep.pk, progress=lambda done, total: progress.update(task, completed=done))
    _print_sweep(sweep, as_json)


@app.command("walk-forward")
@handles_errors
def walk_forward_command(
    strategy: Annotated[str, typer.Argument(help="Registered strategy, e.g. sma_crossover.")],
    args: Annotated[list[str], typer.Argument(help="Symbols and fixed KEY=VALUE parameters.")],
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="Search range: NAME=v1,v2,... or NAME=low:high[:step|:log]. Repeat.")] = None,
    train: Annotated[int, typer.Option(help="In-sample bars per fold.")] = 504,
    test: Annotated[int, typer.Option(help="Out-of-sample bars per fold.")] = 126,
    step: Annotated[int | None, typer.Option(help="Bars between fold starts (default: --test).")] = None,
    anchored: Annotated[bool, typer.Option(help="Grow the in-sample window from the start instead of rolling it.")
                        ] = False,
    warmup: Annotated[int, typer.Option(help="Bars before each window that may warm indicators up.")] = 200,
    method: Annotated[str, typer.Option(help="grid, random or optuna.")] = "grid",
    trials: Annotated[int | None, typer.Option(help="Trials per fold for random/optuna.")] = None,
    objective: Annotated[str, typer.Option(help="Metric to optimise in sample.")] = "sharpe_ratio",
    seed: Annotated[int, typer.Option(help="Seed of random/optuna sampling.")] = 0,
    start: StartOpt = None, end: EndOpt = None, timeframe: TimeframeOpt = "1d", cash: CashOpt = "100000",
    commission_bps: CommissionOpt = None, html: Annotated[Path | None, typer.Option(
        help="Write a chart of the stitched out-of-sample equity here.")] = None,
    user: UserOpt = "demo", as_json: JsonOpt = False,
) -> None:
    """Walk-forward analysis: optimise on rolling in-sample windows, evaluate out of sample."""
    _django()
    from bifrost.backtest import BacktestObjective, walk_forward
    from bifrost_web.backtests import services

    _user(user)
    symbols, fixed = _split_args(args)
    first, last = services.parse_period(start, end)
    data = services.load_bars(symbols=services.normalize_symbols(symbols), timeframe=timeframe, start=first, end=last)
    run_kwargs = {"timeframe": timeframe, "cash": services._cash(cash)}
    if commission_bps is not None:
        run_kwargs["commission_bps"] = services._commission(commission_bps)
    base = BacktestObjective(strategy, data, warmup_bars=warmup, fixed_params=fixed, **run_kwargs)
    index = next(iter(data.values())).index
    with _progress() as progress:
        task = progress.add_task(f"walk-forward {strategy} ({method})", total=None)
        result = walk_forward(lambda a, b: base.window(a, b), index, _space(param or [], None),
                              train_bars=train, test_bars=test, step_bars=step, anchored=anchored, method=method,
                              n_trials=trials, seed=seed, metric=objective,
                              progress=lambda done, total: progress.update(task, completed=done, total=total))
    folds = result.folds
    if as_json:
        console.print_json(json.dumps({"folds": json.loads(folds.to_json(orient="records", date_format="iso")),
                                       "efficiency": result.efficiency(),
                                       "oos_total_return": float(result.oos_equity.iloc[-1] - 1.0)}))
    else:
        table = Table(*[str(c) for c in folds.columns])
        for row in folds.itertuples(index=False):
            table.add_row(*[_fmt(v, "num") if isinstance(v, float) else str(v) for v in row])
        console.print(table)
        console.print(f"walk-forward efficiency {result.efficiency():.3f}; out-of-sample total return "
                      f"{result.oos_equity.iloc[-1] - 1.0:.2%}")
    if html is not None:
        import plotly.graph_objects as go

        figure = go.Figure(go.Scatter(x=result.oos_equity.index, y=result.oos_equity.to_numpy(), name="out of sample"))
        figure.update_layout(title=f"{strategy} walk-forward: stitched out-of-sample equity")
        figure.write_html(str(html), include_plotlyjs=True)
        (err_console if as_json else console).print(f"wrote {html}")


def _print_sweep(sweep, as_json: bool) -> None:
    from bifrost_web.backtests import selectors

    body = {"id": sweep.pk, "status": sweep.status, "error": sweep.error, "method": sweep.method,
            "objective": sweep.objective, "n_trials": sweep.n_trials, "trials_done": sweep.trials_done,
            "best_params": sweep.best_params, "best_value": sweep.best_value, "best_trial": sweep.best_trial,
            "deflated_sharpe": sweep.deflated_sharpe, "pbo": sweep.pbo}
    if as_json:
        trials = selectors.sweep_trials(sweep=sweep)
        body["trials"] = json.loads(trials.to_json(orient="records")) if len(trials) else []
        console.print_json(json.dumps(body))
        return
    console.print(f"[bold]sweep #{sweep.pk}[/bold] {sweep.status}: {sweep.trials_done}/{sweep.n_trials} trials")
    if sweep.error:
        console.print(f"[red]{sweep.error}[/red]")
    if sweep.best_params is not None:
        console.print(f"best {sweep.objective} = {sweep.best_value:.4f} with {json.dumps(sweep.best_params)}")
    dsr, pbo = sweep.deflated_sharpe or {}, sweep.pbo or {}
    console.print(f"deflated Sharpe ratio: {_fmt(dsr.get('probability'), 'num') if 'probability' in dsr else dsr.get('error', '—')}"
                  f"   PBO: {_fmt(pbo.get('pbo'), 'num') if 'pbo' in pbo else pbo.get('error', '—')}")
    trials = selectors.sweep_trials(sweep=sweep)
    if len(trials):
        trials = trials.sort_values("value", ascending=not sweep.maximize, na_position="last").head(10)
        params = list(sweep.space)
        table = Table("#", *params, sweep.objective, "total return", "max DD", "trades")
        for row in trials.to_dict("records"):
            table.add_row(str(row["number"]), *[str(row.get(p)) for p in params],
                          _fmt(row["value"] if row["value"] == row["value"] else None, "num"),
                          _fmt(row.get("total_return"), "pct"), _fmt(row.get("max_drawdown"), "pct"),
                          _fmt(row.get("n_trades"), "int"))
        console.print(table)


@app.command("import-backtrader")
@handles_errors
def import_backtrader_command(
    file: Annotated[Path, typer.Argument(help="Python file defining a backtrader.Strategy subclass.")],
    args: Annotated[list[str], typer.Argument(help="Symbols and KEY=VALUE strategy parameters.")],
    strategy_class: Annotated[str | None, typer.Option(
        "--class", help="Class name (default: the only Strategy subclass in the file).")] = None,
    start: StartOpt = None, end: EndOpt = None, timeframe: TimeframeOpt = "1d", cash: CashOpt = "100000",
    commission_bps: CommissionOpt = None, name: Annotated[str, typer.Option(help="Name to store it under.")] = "",
    user: UserOpt = "demo", as_json: JsonOpt = False,
) -> None:
    """Run an unmodified Backtrader strategy on stored bars (through the bridge) and store it."""
    _django()
    from bifrost.backtest.backtrader_bridge import run_backtrader
    from bifrost_web.backtests import services

    symbols, params = _split_args(args)
    owner = _user(user)
    cls = _load_backtrader_class(file, strategy_class)
    symbol_list = services.normalize_symbols(symbols)
    period = services.parse_period(start, end)
    data = services.load_bars(symbols=symbol_list, timeframe=timeframe, start=period[0], end=period[1])
    with _progress() as progress:
        task = progress.add_task(f"Backtrader {cls.__name__} {' '.join(symbol_list)}", total=None)
        record = run_backtrader(cls, data, params=params, cash=float(cash), commission_bps=commission_bps,
                                timeframe=timeframe)
        progress.update(task, total=1, completed=1)
    backtest = services.backtest_store_record(user=owner, record=record, name=name or f"{cls.__name__} (Backtrader)",
                                              source="backtrader-import", start=period[0], end=period[1],
                                              commission_bps=commission_bps)
    if as_json:
        console.print_json(json.dumps(_summary(backtest)))
        return
    _print_metrics(backtest)


def _load_backtrader_class(file: Path, class_name: str | None) -> type:
    import importlib.util
    import inspect
    import sys

    import backtrader as bt

    from bifrost.core.errors import InvalidInput

    if not file.is_file():
        raise InvalidInput(f"no such strategy file: {file}")
    spec = importlib.util.spec_from_file_location(f"bifrost_user_strategy_{abs(hash(file.resolve()))}", file)
    if spec is None or spec.loader is None:
        raise InvalidInput(f"{file} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # Backtrader's metaclasses look the module up by name
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's code: report it instead of a traceback
        sys.modules.pop(spec.name, None)
        raise InvalidInput(f"{file} failed to import: {type(exc).__name__}: {exc}") from None
    found = {n: c for n, c in inspect.getmembers(module, inspect.isclass)
             if issubclass(c, bt.Strategy) and c is not bt.Strategy and c.__module__ == module.__name__}
    if class_name is not None:
        if class_name not in found:
            raise InvalidInput(f"{file} has no backtrader.Strategy subclass {class_name!r}; found {sorted(found)}")
        return found[class_name]
    if len(found) != 1:
        raise InvalidInput(f"{file} defines {len(found)} backtrader.Strategy subclasses {sorted(found)}; "
                           "pick one with --class")
    return next(iter(found.values()))
