"""Tests of the broker trade-history format: reading, writing, JSON and ledger conversion.

Files are written as literal text in ``tmp_path`` so every case is visible in the
test. Expected UTC instants are worked out by hand from the US daylight-saving
rule (Energy Policy Act of 2005: DST starts the second Sunday of March at 02:00
local, ends the first Sunday of November): in 2024 New York is UTC-5 until
2024-03-10 and UTC-4 from then to 2024-11-03, so the 16:00 close of Friday
2024-03-08 is 21:00 UTC and that of Monday 2024-03-11 is 20:00 UTC. Money and
quantities are compared exactly (Decimal); there is no tolerance.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bifrost.adapters.files import (
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
from bifrost.adapters.files.trades import RowType, TradeFileProblem
from bifrost.core.errors import DataQualityError, InvalidInput
from bifrost.orders.types import Side
from bifrost.portfolio import (
    Deposit,
    Dividend,
    Fee,
    Interest,
    Ledger,
    LedgerConfig,
    Split,
    Withdrawal,
)

TRADE_HEADER = "trade_id,account,date,symbol,side,quantity,price,fees,lot_id,currency\n"
FULL_HEADER = "type,trade_id,account,date,symbol,side,quantity,price,fees,lot_id,currency,amount,ratio,memo\n"

# A year of one margin account as a broker export mapped to the format (docs/trade-import.md).
EXAMPLE = (
    FULL_HEADER
    + "deposit,D-1,MARGIN-1,2024-01-02,,,,,,,USD,50000.00,,ACH from checking\n"
    + "trade,T-1001,MARGIN-1,2024-01-03T10:15:00-05:00,AAPL,Buy,100,184.25,1.00,,USD,,,\n"
    + "trade,T-1002,MARGIN-1,2024-01-03T10:16:30-05:00,AAPL,buy,50,184.10,0.50,,USD,,,\n"
    + "trade,T-1003,MARGIN-1,2024-03-08,AAPL,Sell,40,170.73,0.65,T-1002,USD,,,\n"
    + "trade,T-1004,MARGIN-1,2024-03-11,TSLA,sell short,10,177.77,1.00,,USD,,,\n"
    + "trade,T-1005,MARGIN-1,2024-03-12,TSLA,Buy To Cover,10,177.54,1.00,T-1004,USD,,,\n"
    + "dividend,DV-1,MARGIN-1,2024-05-16,AAPL,,,0.25,,,USD,,,\n"
    + "fee,F-1,MARGIN-1,2024-06-28,,,,,,,USD,-2.50,,data fee rebate\n"
    + "interest,I-1,MARGIN-1,2024-06-28,,,,,,,USD,12.34,,cash sweep interest\n"
    + "split,S-1,MARGIN-1,2024-07-01,AAPL,,,,,,,,4:1,\n"
    + "withdrawal,W-1,MARGIN-1,2024-12-20,,,,,,,USD,1000,,\n"
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _problems(excinfo: pytest.ExceptionInfo[DataQualityError]) -> list[str]:
    """The problems listed in the message, one "line N, column C: ..." per entry."""
    return [line.strip() for line in str(excinfo.value).splitlines()[1:]]


def _trade(trade_id: str = "T-1", *, ts: datetime | None = None, action: TradeAction = TradeAction.BUY,
           lot_id: str | None = None, line: int = 0) -> ImportedTrade:
    return ImportedTrade(trade_id=trade_id, account="IRA-1", ts=ts or _utc(2024, 3, 8, 21), symbol="MSFT",
                         action=action, quantity=Decimal("10"), price=Decimal("406.22"), fees=Decimal("0.35"),
                         lot_id=lot_id, line=line)


# ----------------------------------------------------------------------------- good files

def test_read_trade_history_trades_only_file_reads_every_field(tmp_path: Path) -> None:
    # Arrange: no type, amount or ratio column; currency left empty on one row.
    path = _write(tmp_path, "trades.csv", TRADE_HEADER
                  + "T-1001,IRA-1,2024-01-03T10:15:00-05:00,aapl,Buy,100,184.25,1.00,,USD\n"
                  + "T-1002,IRA-1,2024-01-04T10:00:00-05:00,AAPL,sell,30,185.5,0.75,T-1001,\n")

    # Act
    history = read_trade_history(path)

    # Assert
    first, second = history.trades
    assert first == ImportedTrade(trade_id="T-1001", account="IRA-1", ts=_utc(2024, 1, 3, 15, 15), symbol="AAPL",
                                  action=TradeAction.BUY, quantity=Decimal("100"), price=Decimal("184.25"),
                                  fees=Decimal("1.00"), lot_id=None, currency="USD")
    assert (first.line, second.line) == (2, 3)
    assert first.side is Side.BUY and first.trade_date == date(2024, 1, 3)
    assert (second.action, second.lot_id, second.currency) == (TradeAction.SELL, "T-1001", "USD")
    assert str(second.price) == "185.5"  # kept exactly as written
    assert history.cash_events == [] and history.source == str(path)


@pytest.mark.parametrize(("day", "expected_utc"), [
    ("2024-03-08", _utc(2024, 3, 8, 21)),  # Friday, EST (UTC-5)
    ("2024-03-11", _utc(2024, 3, 11, 20)),  # Monday after the change, EDT (UTC-4)
    ("2024-11-01", _utc(2024, 11, 1, 20)),  # last Friday of EDT
    ("2024-11-04", _utc(2024, 11, 4, 21)),  # Monday after the change back, EST
])
def test_read_trade_history_date_only_is_1600_new_york_in_utc(tmp_path: Path, day: str,
                                                              expected_utc: datetime) -> None:
    # Arrange
    path = _write(tmp_path, "dates.csv", TRADE_HEADER + f"T-1,IRA-1,{day},SPY,buy,1,510.1,0,,USD\n")

    # Act
    (trade,) = read_trade_history(path).trades

    # Assert
    assert trade.ts == expected_utc
    assert trade.trade_date == date.fromisoformat(day)


def test_read_trade_history_date_only_ignores_tz(tmp_path: Path) -> None:
    # Arrange: a date names a trade date; tz= only places naive date-times.
    path = _write(tmp_path, "dates.csv", TRADE_HEADER + "T-1,IRA-1,2024-03-08,SPY,buy,1,510.1,0,,USD\n")

    # Act
    (trade,) = read_trade_history(path, tz="Asia/Tokyo").trades

    # Assert
    assert trade.ts == _utc(2024, 3, 8, 21)


def test_read_trade_history_offsets_of_new_york_across_dst_convert_to_utc(tmp_path: Path) -> None:
    # Arrange: -05:00 in January and -04:00 in July is one zone (New York); "time" column, Z form too.
    header = TRADE_HEADER.replace(",date,", ",Time,")
    path = _write(tmp_path, "offsets.csv", header
                  + "T-1,IRA-1,2024-01-03T09:30:00.25-05:00,SPY,buy,1,470,0,,USD\n"
                  + "T-2,IRA-1,2024-07-03 09:30-0400,SPY,buy,1,545,0,,USD\n"
                  + "T-3,IRA-1,2024-03-08,SPY,buy,1,510,0,,USD\n")

    # Act
    history = read_trade_history(path)

    # Assert
    assert [t.ts for t in history.trades] == [
        datetime(2024, 1, 3, 14, 30, 0, 250000, tzinfo=UTC), _utc(2024, 3, 8, 21), _utc(2024, 7, 3, 13, 30)]


def test_read_trade_history_naive_times_with_tz_are_localized(tmp_path: Path) -> None:
    # Arrange: naive New York wall times either side of the 2024-03-10 change.
    path = _write(tmp_path, "naive.csv", TRADE_HEADER
                  + "T-1,IRA-1,2024-03-08 15:59:00,SPY,buy,1,510,0,,USD\n"
                  + "T-2,IRA-1,2024-03-11 09:30:00,SPY,sell,1,511,0,,USD\n")

    # Act
    history = read_trade_history(path, tz="America/New_York")

    # Assert
    assert [t.ts for t in history.trades] == [_utc(2024, 3, 8, 20, 59), _utc(2024, 3, 11, 13, 30)]


@pytest.mark.parametrize(("word", "action"), [
    ("buy", TradeAction.BUY), ("BUY", TradeAction.BUY), ("Sell", TradeAction.SELL),
    ("sell short", TradeAction.SELL_SHORT), ("SELL_SHORT", TradeAction.SELL_SHORT),
    ("Sell  Short", TradeAction.SELL_SHORT), ("buy to cover", TradeAction.BUY_TO_COVER),
    ("Buy_To_Cover", TradeAction.BUY_TO_COVER), ("buy to_cover", TradeAction.BUY_TO_COVER),
])
def test_read_trade_history_side_synonyms_map_to_one_action(tmp_path: Path, word: str,
                                                            action: TradeAction) -> None:
    # Arrange
    path = _write(tmp_path, "sides.csv", TRADE_HEADER + f"T-1,IRA-1,2024-03-08,SPY,{word},1,510,0,,USD\n")

    # Act
    (trade,) = read_trade_history(path).trades

    # Assert
    assert trade.action is action
    assert trade.side is (Side.BUY if action in (TradeAction.BUY, TradeAction.BUY_TO_COVER) else Side.SELL)
    assert (trade.opens_short, trade.covers_short) == (action is TradeAction.SELL_SHORT,
                                                       action is TradeAction.BUY_TO_COVER)


def test_read_trade_history_without_fees_column_defaults_fees_to_zero(tmp_path: Path) -> None:
    # Arrange: no fees column at all, and an empty fees cell in a second file.
    no_column = _write(tmp_path, "nofees.csv", "trade_id,account,date,symbol,side,quantity,price\n"
                       + "T-1,IRA-1,2024-03-08,SPY,buy,2,510.10\n")
    empty_cell = _write(tmp_path, "emptyfees.csv", TRADE_HEADER + "T-1,IRA-1,2024-03-08,SPY,buy,2,510.10,,,\n")

    # Act
    (without_column,) = read_trade_history(no_column).trades
    (with_empty_cell,) = read_trade_history(empty_cell).trades

    # Assert
    assert without_column.fees == Decimal(0) and with_empty_cell.fees == Decimal(0)
    assert without_column == with_empty_cell


def test_read_trade_history_rows_out_of_order_sort_by_time_and_ties_keep_file_order(tmp_path: Path) -> None:
    # Arrange: T-3 is earliest; T-2, T-4 and T-1 share an instant (one written as a date).
    path = _write(tmp_path, "order.csv", TRADE_HEADER
                  + "T-1,IRA-1,2024-03-08T16:00:00-05:00,SPY,buy,1,510,0,,USD\n"
                  + "T-2,IRA-1,2024-03-08,SPY,buy,1,510,0,,USD\n"
                  + "T-3,IRA-1,2024-03-07,SPY,buy,1,505,0,,USD\n"
                  + "T-4,IRA-1,2024-03-08 16:00-0500,SPY,buy,1,510,0,,USD\n")

    # Act
    history = read_trade_history(path)

    # Assert
    assert [t.trade_id for t in history.trades] == ["T-3", "T-1", "T-2", "T-4"]
    assert [t.line for t in history.trades] == [4, 2, 3, 5]


def test_read_trade_history_example_file_reads_trades_and_cash_events(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "history.csv", EXAMPLE)

    # Act
    history = read_trade_history(path)

    # Assert
    assert [t.trade_id for t in history.trades] == ["T-1001", "T-1002", "T-1003", "T-1004", "T-1005"]
    assert [t.action for t in history.trades] == [TradeAction.BUY, TradeAction.BUY, TradeAction.SELL,
                                                  TradeAction.SELL_SHORT, TradeAction.BUY_TO_COVER]
    assert to_ledger_events(history) == [
        Deposit(entry_id="D-1", ts_event=_utc(2024, 1, 2, 21), amount=Decimal("50000.00"), memo="ACH from checking"),
        Dividend(entry_id="DV-1", ts_event=_utc(2024, 5, 16, 20), symbol="AAPL", amount_per_share=Decimal("0.25")),
        Fee(entry_id="F-1", ts_event=_utc(2024, 6, 28, 20), amount=Decimal("-2.50"), memo="data fee rebate"),
        Interest(entry_id="I-1", ts_event=_utc(2024, 6, 28, 20), amount=Decimal("12.34"),
                 memo="cash sweep interest"),
        Split(entry_id="S-1", ts_event=_utc(2024, 7, 1, 20), symbol="AAPL", ratio=Decimal(4)),
        Withdrawal(entry_id="W-1", ts_event=_utc(2024, 12, 20, 21), amount=Decimal("1000")),
    ]
    assert [e.kind for e in history.cash_events] == [RowType.DEPOSIT, RowType.DIVIDEND, RowType.FEE,
                                                     RowType.INTEREST, RowType.SPLIT, RowType.WITHDRAWAL]
    assert [item.line for item in history.timeline()] == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert history.accounts == ["MARGIN-1"]


@pytest.mark.parametrize(("ratio", "expected"), [
    ("4:1", Decimal(4)), ("3:2", Decimal("1.5")), ("1:10", Decimal("0.1")), ("0.1", Decimal("0.1")),
    ("20", Decimal(20)),
])
def test_read_trade_history_split_ratio_forms_give_new_shares_per_old(tmp_path: Path, ratio: str,
                                                                      expected: Decimal) -> None:
    # Arrange
    path = _write(tmp_path, "split.csv", "type,trade_id,account,date,symbol,ratio\n"
                  + f"split,S-1,IRA-1,2024-06-10,NVDA,{ratio}\n")

    # Act
    (item,) = read_trade_history(path).cash_events

    # Assert
    assert isinstance(item.event, Split) and item.event.ratio == expected


def test_read_trade_history_dividend_quantity_is_signed_position(tmp_path: Path) -> None:
    # Arrange: a payment in lieu on a short position of 10 shares.
    path = _write(tmp_path, "div.csv", "type,trade_id,account,date,symbol,quantity,price\n"
                  + "dividend,DV-1,IRA-1,2024-05-16,AAPL,-10,0.25\n")

    # Act
    (item,) = read_trade_history(path).cash_events

    # Assert
    assert item.event == Dividend(entry_id="DV-1", ts_event=_utc(2024, 5, 16, 20), symbol="AAPL",
                                  amount_per_share=Decimal("0.25"), quantity=Decimal(-10))


def test_read_trade_history_headers_bom_blank_lines_and_other_columns_are_tolerated(tmp_path: Path) -> None:
    # Arrange: BOM, mixed-case padded headers, CRLF, blank lines, an ignored column, a quoted account.
    text = ("\ufeff Trade_ID ,ACCOUNT,Date,Symbol,Side,Quantity,Price,Fees,Description\r\n"
            "\r\n"
            'T-1,"Smith, J. IRA",2024-03-08,SPY,BUY,1,510,0.10,opening buy\r\n'
            "\r\n"
            'T-2,"Smith, J. IRA",2024-03-11,SPY,SELL,1,512,0.10,"closing,\r\nsell"\r\n'
            "T-3,\"Smith, J. IRA\",2024-03-12,SPY,BUY,1,511,0.10,\r\n")
    path = tmp_path / "broker.csv"
    path.write_bytes(text.encode("utf-8"))

    # Act
    history = read_trade_history(path)

    # Assert: the header is line 1, blank lines count, a multi-line record is named by its first line.
    assert [(t.trade_id, t.line) for t in history.trades] == [("T-1", 3), ("T-2", 5), ("T-3", 7)]
    assert {t.account for t in history.trades} == {"Smith, J. IRA"}


def test_read_trade_history_gzip_file_reads_like_csv(tmp_path: Path) -> None:
    # Arrange
    plain = _write(tmp_path, "history.csv", EXAMPLE)
    packed = tmp_path / "history.csv.gz"
    packed.write_bytes(gzip.compress(EXAMPLE.encode("utf-8")))

    # Act
    from_plain, from_gzip = read_trade_history(plain), read_trade_history(packed)

    # Assert
    assert from_gzip.trades == from_plain.trades and from_gzip.cash_events == from_plain.cash_events


def test_trade_history_for_account_keeps_only_that_account(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "two.csv", TRADE_HEADER
                  + "T-1,IRA-1,2024-03-08,SPY,buy,1,510,0,,USD\n"
                  + "T-2,TAXABLE-2,2024-03-07,QQQ,buy,1,440,0,,USD\n"
                  + "T-3,IRA-1,2024-03-11,SPY,sell,1,512,0,,USD\n")

    # Act
    history = read_trade_history(path)

    # Assert
    assert history.accounts == ["TAXABLE-2", "IRA-1"]
    assert [t.trade_id for t in history.for_account("IRA-1").trades] == ["T-1", "T-3"]


# ----------------------------------------------------------------------------- conversions

def test_to_fill_uses_trade_id_and_books_fees_as_commission() -> None:
    # Arrange
    trade = _trade("T-9", action=TradeAction.SELL_SHORT)

    # Act
    fill = to_fill(trade)

    # Assert
    assert (fill.fill_id, fill.client_order_id, fill.symbol, fill.side) == ("T-9", "T-9", "MSFT", Side.SELL)
    assert (fill.quantity, fill.price, fill.commission, fill.fees) == (Decimal(10), Decimal("406.22"),
                                                                       Decimal("0.35"), Decimal(0))
    assert fill.ts_event == _utc(2024, 3, 8, 21) and fill.venue == "import" and fill.currency == "USD"


def test_ledger_posting_of_example_relieves_the_named_lots(tmp_path: Path) -> None:
    # Arrange
    history = read_trade_history(_write(tmp_path, "history.csv", EXAMPLE))
    ledger = Ledger(LedgerConfig(margin=True))

    # Act
    for item in history.timeline():
        if isinstance(item, ImportedTrade):
            ledger.post(to_fill(item), lot_selection=lot_selection(item))
        else:
            ledger.post(item.event)

    # Assert: T-1003 sells 40 of lot T-1002 (FIFO would take T-1001 at 184.25).
    # proceeds 40 x 170.73 - 0.65 = 6828.55; basis 40/50 x (50 x 184.10 + 0.50) = 7364.40.
    (sale,) = ledger.realised_gains("T-1003")
    assert (sale.lot_id, sale.proceeds, sale.basis, sale.gain) == ("T-1002", Decimal("6828.55"),
                                                                   Decimal("7364.40"), Decimal("-535.85"))
    # The cover: proceeds 10 x 177.77 - 1.00 = 1776.70; cost 10 x 177.54 + 1.00 = 1776.40.
    (cover,) = ledger.realised_gains("T-1005")
    assert (cover.lot_id, cover.short, cover.gain) == ("T-1004", True, Decimal("0.30"))
    assert ledger.position("AAPL").quantity == Decimal(440)  # 110 shares split 4:1


def test_lot_selection_without_lot_id_is_empty() -> None:
    # Arrange
    named = _trade("T-2", action=TradeAction.SELL, lot_id="T-1")

    # Act
    selections = lot_selection(named), lot_selection(_trade("T-3", action=TradeAction.SELL))

    # Assert
    assert [(s.lot_id, s.quantity) for s in selections[0]] == [("T-1", Decimal(10))]
    assert selections[1] == ()


def test_to_ledger_events_with_account_keeps_that_account(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "cash.csv", "type,trade_id,account,date,amount\n"
                  + "deposit,D-1,IRA-1,2024-01-02,100\n"
                  + "deposit,D-2,TAXABLE-2,2024-01-02,200\n")

    # Act
    events = to_ledger_events(read_trade_history(path), account="TAXABLE-2")

    # Assert
    assert [(e.entry_id, e.amount) for e in events] == [("D-2", Decimal(200))]  # type: ignore[union-attr]


# ----------------------------------------------------------------------------- writing and JSON

def test_write_trade_history_round_trip_returns_equal_history(tmp_path: Path) -> None:
    # Arrange
    original = read_trade_history(_write(tmp_path, "history.csv", EXAMPLE))

    # Act
    written = write_trade_history(tmp_path / "copy.csv.gz", original)
    again = read_trade_history(written)

    # Assert
    assert again.trades == original.trades and again.cash_events == original.cash_events
    assert [t.trade_date for t in again.trades] == [t.trade_date for t in original.trades]


def test_write_trade_history_trades_only_writes_trade_columns_in_utc(tmp_path: Path) -> None:
    # Arrange
    trades = [_trade("T-1"), _trade("T-2", ts=datetime(2024, 3, 8, 14, 30, 0, 1500, tzinfo=UTC),
                                    action=TradeAction.SELL, lot_id="T-0")]

    # Act
    path = write_trade_history(tmp_path / "out.csv", trades)

    # Assert
    assert path.read_text(encoding="utf-8").splitlines() == [
        "trade_id,account,time,symbol,side,quantity,price,fees,lot_id,currency",
        "T-1,IRA-1,2024-03-08T21:00:00+00:00,MSFT,buy,10,406.22,0.35,,USD",
        "T-2,IRA-1,2024-03-08T14:30:00.001500+00:00,MSFT,sell,10,406.22,0.35,T-0,USD",
    ]
    assert read_trade_history(path).trades == [trades[1], trades[0]]  # read back sorted by time


_ids = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_,\" ", min_size=1, max_size=12).filter(str.strip)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    st.sampled_from(list(TradeAction)),
    st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(10**9), places=6),
    st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(10**6), places=6),
    st.decimals(min_value=Decimal(0), max_value=Decimal(10**4), places=2),
    _ids,
), min_size=1, max_size=8))
def test_write_trade_history_round_trip_property_keeps_every_trade(tmp_path_factory: pytest.TempPathFactory,
                                                                   rows: list[tuple]) -> None:
    # Arrange: ids are made unique by position; account text exercises CSV quoting.
    trades = [ImportedTrade(trade_id=f"T{i}", account=account, ts=ts, symbol="BRK-B", action=action,
                            quantity=quantity, price=price, fees=fees)
              for i, (ts, action, quantity, price, fees, account) in enumerate(rows)]
    path = tmp_path_factory.mktemp("round") / "trades.csv"

    # Act
    again = read_trade_history(write_trade_history(path, trades)).trades

    # Assert
    assert again == sorted(trades, key=lambda t: t.ts)  # sort is stable, so ties keep written order


def test_trades_to_json_writes_decimals_as_strings_and_times_as_iso(tmp_path: Path) -> None:
    # Arrange
    history = read_trade_history(_write(tmp_path, "history.csv", EXAMPLE))

    # Act
    document = json.loads(trades_to_json(history))

    # Assert
    assert document["trades"][2] == {
        "trade_id": "T-1003", "account": "MARGIN-1", "ts": "2024-03-08T21:00:00+00:00",
        "trade_date": "2024-03-08", "symbol": "AAPL", "action": "sell", "side": "sell", "quantity": "40",
        "price": "170.73", "fees": "0.65", "lot_id": "T-1002", "currency": "USD", "line": 5}
    assert document["cash_events"][1] == {
        "entry_id": "DV-1", "type": "dividend", "account": "MARGIN-1", "ts": "2024-05-16T20:00:00+00:00",
        "trade_date": "2024-05-16", "symbol": "AAPL", "amount": None, "amount_per_share": "0.25",
        "quantity": None, "ratio": None, "currency": "USD", "memo": None, "line": 8}
    assert [e["type"] for e in document["cash_events"]] == ["deposit", "dividend", "fee", "interest", "split",
                                                            "withdrawal"]


def test_write_trade_history_nothing_to_write_raises_and_writes_nothing(tmp_path: Path) -> None:
    # Arrange
    target = tmp_path / "empty.csv"

    # Act
    with pytest.raises(InvalidInput) as excinfo:
        write_trade_history(target, [])

    # Assert
    assert str(excinfo.value) == f"{target}: nothing to write; no trades or cash events"
    assert not target.exists()


def test_write_trade_history_duplicate_ids_raise_and_write_nothing(tmp_path: Path) -> None:
    # Arrange
    target = tmp_path / "dupes.csv"
    event = ImportedCashEvent(account="IRA-1", event=Deposit(entry_id="T-1", ts_event=_utc(2024, 1, 2, 21),
                                                             amount=Decimal(100)))

    # Act
    with pytest.raises(InvalidInput) as excinfo:
        write_trade_history(target, [_trade("T-1"), event])

    # Assert
    assert str(excinfo.value) == f"{target}: trade_id 'T-1' appears twice; ids are unique in a file"
    assert not target.exists()


# ----------------------------------------------------------------------------- value types

def test_imported_trade_lot_id_on_a_buy_raises() -> None:
    # Act
    with pytest.raises(InvalidInput) as excinfo:
        _trade("T-5", action=TradeAction.BUY, lot_id="T-1")

    # Assert
    assert str(excinfo.value) == "lot_id applies only to sell and buy to cover trades, not buy (trade T-5)"


def test_trade_action_parse_unknown_word_lists_allowed_words() -> None:
    # Act
    with pytest.raises(InvalidInput) as excinfo:
        TradeAction.parse("short")

    # Assert
    assert str(excinfo.value) == ("side must be one of buy, sell, sell short, buy to cover (any case; spaces or "
                                  "underscores, as in sell_short), was 'short'")


# ----------------------------------------------------------------------------- file-level errors

def test_read_trade_history_empty_file_raises(tmp_path: Path) -> None:
    # Arrange: blank lines only count as empty.
    path = _write(tmp_path, "empty.csv", "\n  \n")

    # Act
    with pytest.raises(InvalidInput) as excinfo:
        read_trade_history(path)

    # Assert
    assert str(excinfo.value) == f"{path}: file is empty"


def test_read_trade_history_header_only_raises(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "header.csv", TRADE_HEADER + "\n")

    # Act
    with pytest.raises(InvalidInput) as excinfo:
        read_trade_history(path)

    # Assert
    assert str(excinfo.value) == f"{path}: file has a header but no data rows"


def test_read_trade_history_missing_required_columns_raises_naming_them(tmp_path: Path) -> None:
    # Arrange: no account and no side.
    path = _write(tmp_path, "missing.csv", "Trade_ID,Date,Symbol,Quantity,Price\nT-1,2024-03-08,SPY,1,510\n")

    # Act
    with pytest.raises(InvalidInput) as excinfo:
        read_trade_history(path)

    # Assert
    assert not isinstance(excinfo.value, DataQualityError)
    assert str(excinfo.value) == (f"{path} line 1: missing required columns account, side; found columns: "
                                  "Trade_ID, Date, Symbol, Quantity, Price")
    assert excinfo.value.details["missing"] == ["account", "side"]


def test_read_trade_history_missing_time_column_names_both_spellings(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "notime.csv", "trade_id,account,symbol,side,quantity,price\nT-1,A,SPY,buy,1,5\n")

    # Act
    with pytest.raises(InvalidInput) as excinfo:
        read_trade_history(path)

    # Assert
    assert str(excinfo.value) == (f"{path} line 1: missing required column date (or time); found columns: "
                                  "trade_id, account, symbol, side, quantity, price")


def test_read_trade_history_column_needed_by_a_row_type_missing_raises(tmp_path: Path) -> None:
    # Arrange: a deposit row but no amount column.
    path = _write(tmp_path, "noamount.csv", "type,trade_id,account,date,symbol,side,quantity,price\n"
                  + "trade,T-1,IRA-1,2024-03-08,SPY,buy,1,510\n"
                  + "deposit,D-1,IRA-1,2024-03-08,,,,\n")

    # Act
    with pytest.raises(InvalidInput) as excinfo:
        read_trade_history(path)

    # Assert
    assert str(excinfo.value) == (f"{path} line 1: missing column amount (needed by deposit rows, first at "
                                  "line 3); found columns: type, trade_id, account, date, symbol, side, "
                                  "quantity, price")


def test_read_trade_history_headers_differing_in_case_raise(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "dup.csv", "trade_id,account,date,symbol,side,quantity,price,Price\n")

    # Act
    with pytest.raises(InvalidInput) as excinfo:
        read_trade_history(path)

    # Assert
    assert str(excinfo.value) == (f"{path} line 1: columns 'price' and 'Price' are the same column "
                                  "(headers are case-insensitive)")


def test_read_trade_history_date_and_time_columns_together_raise(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "both.csv", "trade_id,account,date,time,symbol,side,quantity,price\n")

    # Act
    with pytest.raises(InvalidInput) as excinfo:
        read_trade_history(path)

    # Assert
    assert str(excinfo.value) == f"{path} line 1: columns 'date' and 'time' both give the trade time; keep one"


@pytest.mark.parametrize(("name", "tz", "message"), [
    ("trades.txt", None, "{path}: file name must end in .csv or .csv.gz"),
    ("absent.csv", None, "{path}: no such file"),
    ("trades.csv", "New York", "tz must be an IANA time zone such as America/New_York, was 'New York'"),
])
def test_read_trade_history_bad_path_or_tz_raises(tmp_path: Path, name: str, tz: str | None, message: str) -> None:
    # Arrange
    path = tmp_path / name
    if name != "absent.csv":
        path.write_text(TRADE_HEADER + "T-1,IRA-1,2024-03-08,SPY,buy,1,510,0,,USD\n", encoding="utf-8")

    # Act
    with pytest.raises(InvalidInput) as excinfo:
        read_trade_history(path, tz=tz)

    # Assert
    assert str(excinfo.value) == message.format(path=path)


# ----------------------------------------------------------------------------- row errors

def _read_bad(tmp_path: Path, rows: str, *, header: str = TRADE_HEADER, tz: str | None = None
              ) -> tuple[Path, pytest.ExceptionInfo[DataQualityError]]:
    path = _write(tmp_path, "bad.csv", header + rows)
    with pytest.raises(DataQualityError) as excinfo:
        read_trade_history(path, tz=tz)
    return path, excinfo


GOOD_ROW = "T-0,IRA-1,2024-03-07,SPY,buy,1,505,0,,USD\n"


@pytest.mark.parametrize(("row", "problem"), [
    ("T-1,IRA-1,2024-03-08,SPY,purchase,1,510,0,,USD\n",
     "line 3, column side: side must be one of buy, sell, sell short, buy to cover (any case; spaces or "
     "underscores, as in sell_short), was 'purchase'"),
    ("T-1,IRA-1,2024-03-08,SPY,buy,0,510,0,,USD\n",
     "line 3, column quantity: quantity must be positive, was '0'"),
    ("T-1,IRA-1,2024-03-08,SPY,buy,-5,510,0,,USD\n",
     "line 3, column quantity: quantity must be positive, was '-5'"),
    ("T-1,IRA-1,2024-03-08,SPY,buy,0.0000001,510,0,,USD\n",
     "line 3, column quantity: quantity must have at most 6 decimal places, was '0.0000001'"),
    ("T-1,IRA-1,2024-03-08,SPY,buy,1,0,0,,USD\n",
     "line 3, column price: price must be positive, was '0'"),
    ("T-1,IRA-1,2024-03-08,SPY,buy,1,-510,0,,USD\n",
     "line 3, column price: price must be positive, was '-510'"),
    ("T-1,IRA-1,2024-03-08,SPY,buy,1,510,-1.00,,USD\n",
     "line 3, column fees: fees must not be negative, was '-1.00'"),
    ("T-1,IRA-1,2024-03-08,SPY,buy,1,510,0.005,,USD\n",
     "line 3, column fees: fees must have at most 2 decimal places for USD, was '0.005'"),
    ('T-1,IRA-1,2024-03-08,SPY,buy,"1,000",510,0,,USD\n',
     "line 3, column quantity: quantity must be a plain decimal number such as 100 or 184.25 (no thousands "
     "separators, currency signs or exponents), was '1,000'"),
    ("T-1,IRA-1,2024-03-08,SPY,buy,1,$510.00,0,,USD\n",
     "line 3, column price: price must be a plain decimal number such as 100 or 184.25 (no thousands "
     "separators, currency signs or exponents), was '$510.00'"),
    ("T-1,IRA-1,2024-03-08,SPY,buy,1,NaN,0,,USD\n",
     "line 3, column price: price must be a plain decimal number such as 100 or 184.25 (no thousands "
     "separators, currency signs or exponents), was 'NaN'"),
    ("T-1,IRA-1,03/08/2024,SPY,buy,1,510,0,,USD\n",
     "line 3, column date: date is not an ISO 8601 date or date-time, was '03/08/2024'; expected ISO 8601 "
     "such as 2024-03-01 or 2024-03-01T10:15:00-05:00"),
    ("T-1,IRA-1,2024-02-30,SPY,buy,1,510,0,,USD\n",
     "line 3, column date: date is not a real date or time of day, was '2024-02-30'; expected ISO 8601 such "
     "as 2024-03-01 or 2024-03-01T10:15:00-05:00"),
    ("T-1,IRA-1,,SPY,buy,1,510,0,,USD\n",
     "line 3, column date: date is required, was ''; expected ISO 8601 such as 2024-03-01 or "
     "2024-03-01T10:15:00-05:00"),
    ("T-1,IRA-1,2024-03-08,,buy,1,510,0,,USD\n",
     "line 3, column symbol: symbol is required for trade rows, was ''"),
    ("T-1,IRA-1,2024-03-08,S&P 500,buy,1,510,0,,USD\n",
     "line 3, column symbol: symbol must be 1-32 characters of A-Z, 0-9 and . - = ^ _ /, was 'S&P 500'"),
    ("T-1,,2024-03-08,SPY,buy,1,510,0,,USD\n",
     "line 3, column account: account is required, was ''"),
    ("T-1,IRA-1,2024-03-08,SPY,buy,1,510,0,,US$\n",
     "line 3, column currency: currency must be a 3-letter ISO code such as USD, was 'US$'"),
    ("T-1,IRA-1,2024-03-08,SPY,buy,1,510,0,T-0,USD\n",
     "line 3, column lot_id: lot_id applies only to sell and buy to cover rows (it names the lot to "
     "relieve), not to buy, was 'T-0'"),
    ("T-1,IRA-1,2024-03-08,SPY,buy,1,510\n",
     "line 3: row has 7 fields but the header has 10"),
])
def test_read_trade_history_bad_cell_raises_naming_file_line_column_value(tmp_path: Path, row: str,
                                                                          problem: str) -> None:
    # Arrange / Act: a good row first, so the bad one is line 3.
    path, excinfo = _read_bad(tmp_path, GOOD_ROW + row)

    # Assert
    assert str(excinfo.value) == f"{path}: 1 problem in the trade file; nothing was imported:\n  {problem}"
    (violation,) = excinfo.value.violations
    assert isinstance(violation, TradeFileProblem) and violation.line == 3
    assert str(violation) == f"{path} {problem}"


def test_read_trade_history_duplicate_trade_id_names_both_lines(tmp_path: Path) -> None:
    # Act
    path, excinfo = _read_bad(tmp_path, "T-1,IRA-1,2024-03-07,SPY,buy,1,505,0,,USD\n"
                              + GOOD_ROW
                              + "T-1,IRA-1,2024-03-08,SPY,sell,1,510,0,,USD\n")

    # Assert
    assert _problems(excinfo) == [
        "line 4, column trade_id: duplicate trade_id 'T-1', first at line 2; a trade_id is unique in the file"]
    assert excinfo.value.details["problems"] == [{
        "line": 4, "column": "trade_id", "value": "T-1",
        "message": "duplicate trade_id 'T-1', first at line 2; a trade_id is unique in the file"}]


def test_read_trade_history_naive_times_without_tz_raise(tmp_path: Path) -> None:
    # Act
    path, excinfo = _read_bad(tmp_path, "T-1,IRA-1,2024-03-08 10:15,SPY,buy,1,510,0,,USD\n")

    # Assert
    assert str(excinfo.value) == (
        f"{path}: 1 problem in the trade file; nothing was imported:\n"
        "  line 2, column date: date has no UTC offset and tz= was not given, was '2024-03-08 10:15'; pass tz= "
        "naming the zone the file is written in (tz='America/New_York') or write offsets such as "
        "2024-03-01T10:15:00-05:00")


def test_read_trade_history_naive_mixed_with_offsets_raises(tmp_path: Path) -> None:
    # Act
    _, excinfo = _read_bad(tmp_path, "T-1,IRA-1,2024-03-08 10:15,SPY,buy,1,510,0,,USD\n"
                           + "T-2,IRA-1,2024-03-08T10:20:00-05:00,SPY,sell,1,511,0,,USD\n",
                           tz="America/New_York")

    # Assert
    assert _problems(excinfo) == [
        "line 2, column date: date has no UTC offset, but line 3 ('2024-03-08T10:20:00-05:00') has one, was "
        "'2024-03-08 10:15'; a file is written in one time zone: give every date-time an offset, or none and "
        "pass tz="]


def test_read_trade_history_offsets_of_no_single_zone_raise(tmp_path: Path) -> None:
    # Arrange: UTC rows and New York rows pasted together in one week.
    _, excinfo = _read_bad(tmp_path, "T-1,IRA-1,2024-03-04T15:00:00+00:00,SPY,buy,1,510,0,,USD\n"
                           + "T-2,IRA-1,2024-03-05T10:00:00-05:00,SPY,sell,1,511,0,,USD\n")

    # Assert
    assert _problems(excinfo) == [
        "line 2, column date: the times mix UTC offsets +00:00 (first at line 2: '2024-03-04T15:00:00+00:00'), "
        "-05:00 (first at line 3: '2024-03-05T10:00:00-05:00'), which no single time zone has at those "
        "instants; a file is written in one time zone. Write every time in one offset (UTC is simplest) or "
        "pass tz= if the file is in one zone"]


def test_read_trade_history_offset_disagreeing_with_tz_raises(tmp_path: Path) -> None:
    # Act: -05:00 in July is not New York (EDT, -04:00).
    _, excinfo = _read_bad(tmp_path, "T-1,IRA-1,2024-07-02T09:30:00-05:00,SPY,buy,1,545,0,,USD\n",
                           tz="America/New_York")

    # Assert
    assert _problems(excinfo) == [
        "line 2, column date: date has UTC offset -05:00, but America/New_York is -04:00 at that instant, was "
        "'2024-07-02T09:30:00-05:00'"]


def test_read_trade_history_skipped_local_time_raises(tmp_path: Path) -> None:
    # Act: 02:30 on 2024-03-10 does not exist in New York.
    _, excinfo = _read_bad(tmp_path, "T-1,IRA-1,2024-03-10 02:30,SPY,buy,1,510,0,,USD\n",
                           tz="America/New_York")

    # Assert
    assert _problems(excinfo) == [
        "line 2, column date: date is a local time that a daylight-saving change in America/New_York skips or "
        "repeats, was '2024-03-10 02:30'"]


def test_read_trade_history_unknown_type_raises_listing_types(tmp_path: Path) -> None:
    # Act
    _, excinfo = _read_bad(tmp_path, "transfer,X-1,IRA-1,2024-03-08,,,,,,,,100,,\n", header=FULL_HEADER)

    # Assert
    assert _problems(excinfo) == [
        "line 2, column type: type must be one of trade, deposit, withdrawal, dividend, fee, interest, split "
        "(empty means trade), was 'transfer'"]


@pytest.mark.parametrize(("row", "problem"), [
    ("dividend,DV-1,IRA-1,2024-05-16,AAPL,,,,,,USD,25.00,,\n",
     ["line 2, column amount: amount does not apply to dividend rows and must be empty, was '25.00'; a "
      "dividend row gives the cash per share in price",
      "line 2, column price: price is required for dividend rows, was ''"]),
    ("deposit,D-1,IRA-1,2024-01-02,,,,,,,USD,0,,\n",
     ["line 2, column amount: amount must be positive, was '0'"]),
    ("withdrawal,W-1,IRA-1,2024-01-02,,,,,,,JPY,100.5,,\n",
     ["line 2, column amount: amount must have at most 0 decimal places, was '100.5'"]),
    ("fee,F-1,IRA-1,2024-01-02,,,,,,,USD,0.00,,\n",
     ["line 2, column amount: amount must not be zero, was '0.00'"]),
    ("split,S-1,IRA-1,2024-06-10,NVDA,,10,,,,,,,\n",
     ["line 2, column quantity: quantity does not apply to split rows and must be empty, was '10'; a split "
      "row gives new shares per old share in ratio",
      "line 2, column ratio: ratio is required for split rows (new shares per old share, such as 4:1 or "
      "1:10), was ''"]),
    ("split,S-1,IRA-1,2024-06-10,NVDA,,,,,,,,2:3,\n",
     ["line 2, column ratio: ratio must give new shares per old share exactly to 6 decimal places, was "
      "'2:3'"]),
    ("split,S-1,IRA-1,2024-06-10,NVDA,,,,,,,,1:1,\n",
     ["line 2, column ratio: ratio must not be 1 (a split changes the share count), was '1:1'"]),
])
def test_read_trade_history_bad_cash_row_raises_naming_line_column_value(tmp_path: Path, row: str,
                                                                         problem: list[str]) -> None:
    # Act
    _, excinfo = _read_bad(tmp_path, row, header=FULL_HEADER)

    # Assert
    assert _problems(excinfo) == problem


def test_read_trade_history_lot_id_naming_a_later_or_other_trade_raises(tmp_path: Path) -> None:
    # Arrange: T-2 names a lot that opens after it; T-4 names a QQQ lot for a SPY sale.
    rows = ("T-2,IRA-1,2024-03-08,SPY,sell,1,510,0,T-3,USD\n"
            + "T-3,IRA-1,2024-03-11,SPY,buy,1,505,0,,USD\n"
            + "T-1,IRA-1,2024-03-07,QQQ,buy,1,440,0,,USD\n"
            + "T-4,IRA-1,2024-03-12,SPY,sell,1,512,0,T-1,USD\n"
            + "T-5,IRA-1,2024-03-12,SPY,buy to cover,1,512,0,T-3,USD\n")

    # Act
    _, excinfo = _read_bad(tmp_path, rows)

    # Assert
    assert _problems(excinfo) == [
        "line 2, column lot_id: lot_id 'T-3' names the trade at line 3, which comes after this trade",
        "line 5, column lot_id: lot_id 'T-1' names the trade at line 4, which is QQQ in account 'IRA-1', not "
        "SPY in 'IRA-1'",
        "line 6, column lot_id: lot_id 'T-3' names the trade at line 3, which is a buy row, and a buy to cover "
        "relieves a lot opened by sell short",
    ]


def test_read_trade_history_many_bad_rows_lists_twenty_and_counts_the_rest(tmp_path: Path) -> None:
    # Arrange: 25 rows with a negative quantity and one good row; nothing may be returned.
    rows = GOOD_ROW + "".join(f"T-{i},IRA-1,2024-03-08,SPY,buy,-{i},510,0,,USD\n" for i in range(1, 26))

    # Act
    path, excinfo = _read_bad(tmp_path, rows)

    # Assert
    listed = _problems(excinfo)
    assert str(excinfo.value).splitlines()[0] == f"{path}: 25 problems in the trade file; nothing was imported:"
    assert len(listed) == 21 and listed[-1] == "... and 5 more"
    assert listed[0] == "line 3, column quantity: quantity must be positive, was '-1'"
    assert listed[19] == "line 22, column quantity: quantity must be positive, was '-20'"
    assert len(excinfo.value.violations) == 25 and excinfo.value.details["violation_count"] == 25


def test_read_trade_history_problems_of_several_kinds_are_reported_together(tmp_path: Path) -> None:
    # Act
    _, excinfo = _read_bad(tmp_path, "T-1,IRA-1,2024-03-08,SPY,hold,1,510,0,,USD\n"
                           + "T-2,IRA-1,2024-3-8,SPY,buy,1,510,-0.10,,USD\n"
                           + "T-1,IRA-1,2024-03-08,SPY,buy,1,510,0,,USD\n")

    # Assert
    assert [p.split(":")[0] for p in _problems(excinfo)] == [
        "line 2, column side", "line 3, column date", "line 3, column fees", "line 4, column trade_id"]


def test_read_trade_history_malformed_quote_raises_naming_line(tmp_path: Path) -> None:
    # Arrange: a quote closed mid-field.
    path = _write(tmp_path, "quote.csv", TRADE_HEADER + GOOD_ROW + 'T-1,"IRA"-1,2024-03-08,SPY,buy,1,5,0,,USD\n')

    # Act
    with pytest.raises(InvalidInput) as excinfo:
        read_trade_history(path)

    # Assert
    assert str(excinfo.value).startswith(f"{path} line 3: malformed CSV (")


def test_trade_history_is_frozen() -> None:
    # Arrange
    history = TradeHistory([_trade()])

    # Act / Assert
    with pytest.raises(AttributeError):
        history.trades = []  # type: ignore[misc]
