"""File adapter: import and export bar files (CSV, gzip CSV, Parquet).

The file schema and the time-zone rule are documented in
:mod:`bifrost.adapters.files.bars` and ``docs/data-import.md``.
"""

from bifrost.adapters.files.bars import FileBars, read_and_validate, read_bars_file, write_bars_file

__all__ = ["FileBars", "read_and_validate", "read_bars_file", "write_bars_file"]
from bifrost.adapters.files.trades import (  # noqa: E402  (trade histories: docs/trade-import.md)
    ImportedCashEvent,
    ImportedTrade,
    TradeAction,
    TradeHistory,
    lot_selection,
    read_trade_history,
    to_fill,
    to_ledger_events,
    trades_to_json,
    write_trade_history,
)

__all__ += ["ImportedCashEvent", "ImportedTrade", "TradeAction", "TradeHistory", "lot_selection",
            "read_trade_history", "to_fill", "to_ledger_events", "trades_to_json", "write_trade_history"]
