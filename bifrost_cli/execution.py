"""`bifrost execution`: execution quality: algorithms, routing, transaction cost analysis and impact."""

from __future__ import annotations

import typer

app = typer.Typer(help="Execution quality: algorithms, routing, transaction cost analysis and impact.", no_args_is_help=True)
