"""`bifrost compliance`: compliance: tax lots, wash sales, day-trading rules, reports and audit trail."""

from __future__ import annotations

import typer

app = typer.Typer(help="Compliance: tax lots, wash sales, day-trading rules, reports and audit trail.", no_args_is_help=True)
