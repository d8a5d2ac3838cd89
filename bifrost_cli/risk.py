"""`bifrost risk`: risk management: VaR, limits, pre-trade checks, stress tests and reports."""

from __future__ import annotations

import typer

app = typer.Typer(help="Risk management: VaR, limits, pre-trade checks, stress tests and reports.", no_args_is_help=True)
