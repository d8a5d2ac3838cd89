"""``bifrost backtest``: run, list, show (and --html), compare, optimize, import-backtrader."""

import json
import textwrap

import pytest
from django.contrib.auth import get_user_model
from typer.main import get_command
from typer.testing import CliRunner

from bifrost.backtest import run
from bifrost.backtest.backtrader_bridge import run_backtrader
from bifrost_cli.main import app
from bifrost_web.backtests import models
from bifrost_web.marketdata import services as md_services
from tests.factories import xnys_daily_bars

pytestmark = pytest.mark.django_db
runner = CliRunner()
PERIOD = ["--start", "2023-01-01", "--end", "2024-01-01"]


@pytest.fixture
def demo():
    return get_user_model().objects.create_user("demo", password="pw-demo-123456")


@pytest.fixture
def acme():
    bars = xnys_daily_bars("2023-01-03", "2023-12-29", seed=3)
    md_services.bars_ingest(symbol="ACME", timeframe="1d", bars=bars, source="test")
    return bars


def _text(result) -> str:
    return " ".join(result.output.split())  # rich wraps long lines


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_backtest_command_has_help():
    group = get_command(app).commands["backtest"]
    assert set(group.commands) == {"run", "list", "show", "analyse", "compare", "optimize", "walk-forward",
                                   "import-backtrader"}
    for name in group.commands:
        result = runner.invoke(app, ["backtest", name, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, name


def test_run_parses_symbols_and_params_and_stores_the_engine_result(demo, acme):
    body = _json(runner.invoke(app, ["backtest", "run", "sma_crossover", "ACME", "fast=5", "slow=20", *PERIOD,
                                     "--commission-bps", "10", "--json"]))

    direct = run("sma_crossover", {"ACME": acme}, params={"fast": 5, "slow": 20}, commission_bps=10)
    assert body["params"] == {"fast": 5, "slow": 20, "quantity": 100} and body["symbols"] == ["ACME"]
    assert body["metrics"]["final_equity"] == direct.final_equity
    assert body["metrics"]["n_trades"] == len(direct.trades())


def test_run_unknown_param_exits_2_naming_it(demo, acme):
    result = runner.invoke(app, ["backtest", "run", "sma_crossover", "ACME", "fats=5", *PERIOD])
    assert result.exit_code == 2 and "fats" in _text(result)
    assert not models.Backtest.objects.exists()


def test_list_show_html_and_compare(demo, acme, tmp_path):
    first = _json(runner.invoke(app, ["backtest", "run", "sma_crossover", "ACME", "fast=5", "slow=20", *PERIOD,
                                      "--name", "five", "--json"]))
    second = _json(runner.invoke(app, ["backtest", "run", "sma_crossover", "ACME", "fast=3", "slow=25", *PERIOD,
                                       "--name", "three", "--json"]))
    page = tmp_path / "sheet.html"

    listed = _json(runner.invoke(app, ["backtest", "list", "--json"]))
    show = runner.invoke(app, ["backtest", "show", str(first["id"]), "--html", str(page), "--trades"])
    compared = _json(runner.invoke(app, ["backtest", "compare", str(first["id"]), str(second["id"]), "--json"]))
    table = runner.invoke(app, ["backtest", "compare", str(first["id"]), str(second["id"])])

    assert [b["name"] for b in listed] == ["three", "five"]
    assert show.exit_code == 0 and "Sharpe" in show.stdout and "long" in show.stdout
    assert "Equity curve" in page.read_text() and "Underwater" in page.read_text()
    assert [c["metrics"]["final_equity"] for c in compared] == [first["metrics"]["final_equity"],
                                                                second["metrics"]["final_equity"]]
    assert table.exit_code == 0 and "five" in table.stdout and "three" in table.stdout


def test_show_someone_elses_backtest_is_not_found(demo, acme):
    other = get_user_model().objects.create_user("eve", password="pw-eve-12345678")
    mine = _json(runner.invoke(app, ["backtest", "run", "sma_crossover", "ACME", "fast=5", "slow=20", *PERIOD,
                                     "--json"]))
    result = runner.invoke(app, ["backtest", "show", str(mine["id"]), "--user", other.username])
    assert result.exit_code == 2 and f"no backtest {mine['id']}" in _text(result)


def test_optimize_grid_in_process_reports_best_dsr_and_pbo(demo, acme):
    body = _json(runner.invoke(app, ["backtest", "optimize", "sma_crossover", "ACME", "-p", "fast=3,5",
                                     "-p", "slow=15:25:10", *PERIOD, "--in-process", "--json"]))

    sharpe = {}
    for fast in (3, 5):
        for slow in (15, 25):
            returns = run("sma_crossover", {"ACME": acme}, params={"fast": fast, "slow": slow}).returns()
            sharpe[(fast, slow)] = returns.mean() / returns.std(ddof=1) * 252 ** 0.5
    best = max(sharpe, key=sharpe.get)
    assert body["status"] == "done" and body["trials_done"] == 4 and len(body["trials"]) == 4
    assert (body["best_params"]["fast"], body["best_params"]["slow"]) == best
    assert body["best_value"] == pytest.approx(sharpe[best], rel=1e-9)
    assert "probability" in body["deflated_sharpe"] and "pbo" in body["pbo"]


def test_optimize_optuna_table_output(demo, acme):
    result = runner.invoke(app, ["backtest", "optimize", "sma_crossover", "ACME", "-p", "fast=2:8",
                                 "-p", "slow=15:40", "--method", "optuna", "--trials", "4", "--seed", "1", *PERIOD,
                                 "--in-process"])
    assert result.exit_code == 0, result.output
    assert "4/4 trials" in result.stdout and "deflated Sharpe ratio" in result.stdout
    assert models.Sweep.objects.get().trials.count() == 4


def test_optimize_bad_range_exits_2(demo, acme):
    result = runner.invoke(app, ["backtest", "optimize", "sma_crossover", "ACME", "-p", "fast=1:2:3:4",
                                 "--in-process"])
    assert result.exit_code == 2 and "low:high" in _text(result)


BACKTRADER_STRATEGY = textwrap.dedent('''
    import backtrader as bt


    class SmaCross(bt.Strategy):
        params = (("fast", 10), ("slow", 30))

        def __init__(self):
            self.cross = bt.ind.CrossOver(bt.ind.SMA(period=self.p.fast), bt.ind.SMA(period=self.p.slow))

        def next(self):
            if not self.position and self.cross > 0:
                self.buy(size=100)
            elif self.position and self.cross < 0:
                self.close()
''')


def test_import_backtrader_runs_the_users_file_through_the_bridge(demo, acme, tmp_path):
    path = tmp_path / "my_strategy.py"
    path.write_text(BACKTRADER_STRATEGY)

    body = _json(runner.invoke(app, ["backtest", "import-backtrader", str(path), "ACME", "fast=5", "slow=20",
                                     *PERIOD, "--commission-bps", "10", "--json"]))

    namespace: dict = {}
    exec(compile(BACKTRADER_STRATEGY, "reference", "exec"), namespace)  # the same class, loaded independently
    direct = run_backtrader(namespace["SmaCross"], {"ACME": acme}, params={"fast": 5, "slow": 20},
                            commission_bps=10)
    stored = models.Backtest.objects.get(pk=body["id"])
    assert body["source"] == "backtrader-import" and stored.engine == "backtrader"
    assert body["metrics"]["final_equity"] == pytest.approx(direct.final_equity, rel=1e-12)
    assert stored.n_fills == len(direct.fills) and stored.strategy == "SmaCross"


def test_import_backtrader_without_a_strategy_class_exits_2(demo, acme, tmp_path):
    path = tmp_path / "empty.py"
    path.write_text("x = 1\n")
    result = runner.invoke(app, ["backtest", "import-backtrader", str(path), "ACME"])
    assert result.exit_code == 2 and "defines 0 backtrader.Strategy subclasses" in _text(result)


@pytest.mark.redis
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_optimize_with_workers_follows_progress_from_the_database(celery_worker, demo, acme):
    body = _json(runner.invoke(app, ["backtest", "optimize", "sma_crossover", "ACME", "-p", "fast=3,5,8",
                                     "-p", "slow=15,25", *PERIOD, "--chunk-size", "2", "--workers", "--json"]))

    assert body["status"] == "done" and body["trials_done"] == 6
    assert celery_worker["log"].read_text().count("bifrost_web.backtests.tasks.sweep_chunk") >= 3


def test_optimize_workers_without_a_broker_exits_2(demo, acme):
    result = runner.invoke(app, ["backtest", "optimize", "sma_crossover", "ACME", "-p", "fast=3,5", "--workers"])
    assert result.exit_code == 2 and "needs a broker" in _text(result)
    assert not models.Sweep.objects.exists()


def test_walk_forward_folds_pick_the_in_sample_best_and_chart_the_out_of_sample(demo, acme, tmp_path):
    chart = tmp_path / "wf.html"
    body = _json(runner.invoke(app, ["backtest", "walk-forward", "sma_crossover", "ACME", "-p", "fast=5,10",
                                     "-p", "slow=20,40", "--train", "120", "--test", "40", "--warmup", "40",
                                     "--objective", "total_return", *PERIOD, "--html", str(chart), "--json"]))
    folds = body["folds"]
    assert len(folds) == (len(acme) - 120) // 40
    for fold in folds:  # independent check: the chosen pair is the in-sample best by total return
        start, end = fold["train_start"], fold["train_end"]
        best = max(((f, s) for f in (5, 10) for s in (20, 40)), key=lambda fs: _window_return(acme, fs, start, end))
        assert (fold["param_fast"], fold["param_slow"]) == best
    assert chart.read_text().count("plotly") > 10


def _window_return(bars, params, start, end):
    import pandas as pd

    start, end = pd.Timestamp(start), pd.Timestamp(end)
    window = bars.loc[:end]
    first = window.index.get_loc(start)
    record = run("sma_crossover", {"ACME": window.iloc[max(0, first - 40):]}, params=dict(zip(("fast", "slow"), params,
                                                                                             strict=True)))
    equity = record.equity[record.equity.index >= bars.index[first]]
    before = record.equity[record.equity.index < bars.index[first]]
    opening = before.iloc[-1] if len(before) else record.initial_cash
    return equity.iloc[-1] / opening - 1


def test_analyse_runs_the_risk_tca_and_tax_services_on_a_stored_backtest(demo, acme):
    stored = _json(runner.invoke(app, ["backtest", "run", "sma_crossover", "ACME", "fast=5", "slow=20", *PERIOD,
                                       "--commission-bps", "10", "--json"]))
    body = _json(runner.invoke(app, ["backtest", "analyse", str(stored["id"]), "--json"]))
    direct = run("sma_crossover", {"ACME": acme}, params={"fast": 5, "slow": 20}, commission_bps=10)
    from bifrost.backtest.analysis import risk_summary, tax_summary

    expected = risk_summary(direct)["var"]
    for method, values in expected.items():
        assert body["risk"]["var"][method] == pytest.approx(values)
    assert body["tax"] == tax_summary(direct)
    assert len(body["tca"]["orders"]) == len(direct.fills)
    bad = runner.invoke(app, ["backtest", "analyse", str(stored["id"]), "-s", "astrology"])
    assert bad.exit_code != 0 and "unknown analysis sections" in _text(bad)
