"""`bifrost backtest`: backtests: run, list, show, compare and optimise strategies."""

from __future__ import annotations

import typer

app = typer.Typer(help="Backtests: run, list, show, compare and optimise strategies.", no_args_is_help=True)
