"""Validate bar frames on ingest: values, timestamps and exchange-calendar gaps.

Every check is vectorised with NumPy over int64 nanoseconds, so a million bars
validate in a fraction of a second; Python only runs per violation found.

Rules (stable codes of :class:`QualityRule`)
--------------------------------------------
Shape and index (always reject)
    ``missing_column``, ``non_numeric_column``, ``invalid_index`` (not a
    ``DatetimeIndex`` or a ``NaT`` label), ``naive_timestamp``,
    ``mixed_timezones`` (an object index of several zones, or naive and aware
    mixed), ``not_utc`` (one aware zone that is not UTC).
Values (always reject)
    ``non_finite_value`` (NaN or infinity in any bar column),
    ``non_positive_price``, ``high_below_open_close``, ``low_above_open_close``,
    ``high_below_low``, ``negative_volume``. Zero volume is allowed.
Order (always reject)
    ``duplicate_timestamp``, ``not_sorted``.
Calendar (always reject)
    ``outside_session``: a daily bar whose date is not a session, or an intraday
    bar whose open instant is not inside a session's ``[open, close)`` (or falls
    in a lunch break). ``misaligned_timestamp``: a daily label that is not
    midnight UTC, or an intraday label that is not a whole number of bars from
    the session open or from midnight UTC.
Gaps (follow :class:`GapPolicy`; default reject for daily, warn for intraday)
    ``missing_session``: a session between the first and last bar with no bar.
    ``missing_bars_intraday``: a run of missing bars inside a session that has
    some bars. Thinly traded minutes legitimately have no bar, so intraday gaps
    only warn by default. One violation per run, not per missing bar.

The expected intraday grid starts at each session open, or at midnight-aligned
multiples of the bar length when most bars sit on that grid instead (clock-hour
bars on a half-hour open). Gaps before the first bar and after the last are not
reported: a history may legitimately start or end mid-session.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

import numpy as np
import pandas as pd

from bifrost.core.calendars import get_calendar
from bifrost.core.errors import DataQualityError, InvalidInput
from bifrost.marketdata.types import BAR_COLUMNS, PRICE_COLUMNS, Timeframe, normalize_symbol

_NS_PER_DAY = 86_400 * 1_000_000_000
_NAT = np.iinfo(np.int64).min
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_LISTED = 3


class QualityRule(StrEnum):
    """Stable codes of the data-quality rules; API clients may rely on them."""

    MISSING_COLUMN = "missing_column"
    NON_NUMERIC_COLUMN = "non_numeric_column"
    INVALID_INDEX = "invalid_index"
    NAIVE_TIMESTAMP = "naive_timestamp"
    MIXED_TIMEZONES = "mixed_timezones"
    NOT_UTC = "not_utc"
    NON_FINITE_VALUE = "non_finite_value"
    NON_POSITIVE_PRICE = "non_positive_price"
    HIGH_BELOW_OPEN_CLOSE = "high_below_open_close"
    LOW_ABOVE_OPEN_CLOSE = "low_above_open_close"
    HIGH_BELOW_LOW = "high_below_low"
    NEGATIVE_VOLUME = "negative_volume"
    DUPLICATE_TIMESTAMP = "duplicate_timestamp"
    NOT_SORTED = "not_sorted"
    MISALIGNED_TIMESTAMP = "misaligned_timestamp"
    OUTSIDE_SESSION = "outside_session"
    MISSING_SESSION = "missing_session"
    MISSING_BARS_INTRADAY = "missing_bars_intraday"


GAP_RULES: frozenset[QualityRule] = frozenset(
    {QualityRule.MISSING_SESSION, QualityRule.MISSING_BARS_INTRADAY}
)
_RULE_ORDER = {rule: i for i, rule in enumerate(QualityRule)}


class GapPolicy(StrEnum):
    """What a gap (``missing_session``, ``missing_bars_intraday``) does to a report."""

    REJECT = "reject"
    WARN = "warn"
    IGNORE = "ignore"

    @classmethod
    def default_for(cls, timeframe: Timeframe) -> GapPolicy:
        """Reject gaps in daily bars; only warn about them in intraday bars."""
        return cls.WARN if timeframe.is_intraday else cls.REJECT


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """One broken rule: which symbol, which bar (``ts``, aware UTC; ``None`` for the
    whole frame), which rule, and a message naming the field and value."""

    symbol: str
    ts: datetime | None
    rule: QualityRule
    message: str

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "rule", QualityRule(self.rule))
        except ValueError:
            raise InvalidInput(f"violation rule must be a QualityRule code, was {self.rule!r}") from None
        if self.ts is not None and (self.ts.tzinfo is None or self.ts.utcoffset() != timedelta(0)):
            raise InvalidInput(f"violation ts must be aware UTC, was {self.ts.isoformat()}")

    def __str__(self) -> str:
        where = self.symbol if self.ts is None else f"{self.symbol} {self.ts.isoformat()}"
        return f"{where}: {self.message} (rule {self.rule.value})"


@dataclass(frozen=True, slots=True, kw_only=True)
class QualityReport:
    """The outcome of :func:`validate_bars`.

    ``violations`` reject the frame; ``warnings`` are suspect but acceptable (by
    default, intraday gaps). Both are ordered frame-level first, then by time.
    """

    symbol: str
    timeframe: Timeframe
    calendar: str
    gap_policy: GapPolicy
    bar_count: int
    first_ts: datetime | None
    last_ts: datetime | None
    violations: tuple[Violation, ...] = ()
    warnings: tuple[Violation, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing rejects the frame (warnings allowed)."""
        return not self.violations

    @property
    def counts(self) -> dict[QualityRule, int]:
        """Number of violations and warnings per rule."""
        return dict(Counter(v.rule for v in (*self.violations, *self.warnings)))

    @property
    def violation_counts(self) -> dict[QualityRule, int]:
        """Number of rejecting violations per rule."""
        return dict(Counter(v.rule for v in self.violations))

    @property
    def warning_counts(self) -> dict[QualityRule, int]:
        """Number of warnings per rule."""
        return dict(Counter(v.rule for v in self.warnings))

    @property
    def failed_bar_count(self) -> int:
        """Bars that broke a rejecting rule; every bar when a frame-level rule broke.

        A missing bar (gap) counts as one bar.
        """
        if any(v.ts is None for v in self.violations):
            return self.bar_count
        return len({v.ts for v in self.violations})

    def summary(self) -> str:
        """One line: what was checked, and the counts per rule."""
        span = (
            f"{self.first_ts.isoformat()}..{self.last_ts.isoformat()}"
            if self.first_ts is not None and self.last_ts is not None
            else "no usable timestamps"
        )
        head = (
            f"{self.symbol} {self.timeframe.value} on {self.calendar}: "
            f"{self.bar_count} bars {span} (gaps: {self.gap_policy.value})"
        )
        if self.ok and not self.warnings:
            return f"{head}; ok"
        parts = [f"{head}; {'ok' if self.ok else 'FAILED'}"]
        if self.violations:
            parts.append(f"{len(self.violations)} violations ({_format_counts(self.violation_counts)})")
        if self.warnings:
            parts.append(f"{len(self.warnings)} warnings ({_format_counts(self.warning_counts)})")
        return "; ".join(parts)

    def error_message(self) -> str:
        """The message :func:`check_bars` raises: the count and the first violations."""
        listed = "; ".join(str(v) for v in self.violations[:_MAX_LISTED])
        more = len(self.violations) - _MAX_LISTED
        tail = f"; ... and {more} more ({_format_counts(self.violation_counts)})" if more > 0 else ""
        return f"{self.failed_bar_count} bars of {self.symbol} failed validation: {listed}{tail}"


def _format_counts(counts: dict[QualityRule, int]) -> str:
    ordered = sorted(counts.items(), key=lambda item: _RULE_ORDER[item[0]])
    return ", ".join(f"{rule.value} {n}" for rule, n in ordered)


def validate_bars(
    symbol: str,
    bars: pd.DataFrame,
    *,
    timeframe: Timeframe | str,
    calendar: str = "XNYS",
    gap_policy: GapPolicy | str | None = None,
) -> QualityReport:
    """Check a bar frame against every data-quality rule and return the findings.

    Parameters
    ----------
    symbol
        Ticker the bars belong to; named in every violation.
    bars
        A bar frame: ``DatetimeIndex`` ``ts`` in UTC and columns
        ``open, high, low, close, volume``. Extra columns are ignored.
    timeframe
        Bar size; daily bars are labelled by session date at midnight UTC,
        intraday bars by their open instant.
    calendar
        ``exchange_calendars`` name whose sessions the bars must follow.
    gap_policy
        What missing sessions and missing intraday bars do; ``None`` rejects
        them for daily bars and warns for intraday bars.

    Returns
    -------
    QualityReport
        Rejecting ``violations`` and non-rejecting ``warnings``; ``ok`` is true
        when there are no violations.

    Raises
    ------
    InvalidInput
        If ``bars`` is not a DataFrame, or ``symbol``, ``timeframe``,
        ``calendar`` or ``gap_policy`` is not a valid name. Problems with the
        data itself are reported, never raised.
    """
    symbol = normalize_symbol(symbol)
    timeframe = Timeframe.parse(timeframe)
    policy = _parse_policy(gap_policy, timeframe)
    if not isinstance(bars, pd.DataFrame):
        raise InvalidInput(f"bars must be a pandas DataFrame, was {type(bars).__name__}")
    sessions = _calendar_arrays(calendar)

    found: list[Violation] = []
    gaps: list[Violation] = []
    columns = _check_columns(symbol, bars, found)
    ts_ns = _check_index(symbol, bars.index, found)
    locate = _locator(symbol, bars.index, ts_ns)
    _check_values(columns, locate, found)
    if ts_ns is not None:
        valid = ts_ns != _NAT
        positions = np.flatnonzero(valid)
        values = ts_ns[valid]
        increasing = bool(np.all(values[1:] > values[:-1]))
        if not increasing:
            _check_order(symbol, values, positions, found)
        unique = values if increasing else _sorted_unique(values)
        if timeframe.is_intraday:
            _check_intraday(symbol, unique, timeframe, sessions, policy, found, gaps)
        else:
            _check_daily(symbol, unique, sessions, policy, found, gaps)
        first_ts = _to_datetime(int(unique[0])) if unique.size else None
        last_ts = _to_datetime(int(unique[-1])) if unique.size else None
    else:
        first_ts = last_ts = None

    rejecting = found + (gaps if policy is GapPolicy.REJECT else [])
    warnings = gaps if policy is GapPolicy.WARN else []
    return QualityReport(
        symbol=symbol,
        timeframe=timeframe,
        calendar=calendar,
        gap_policy=policy,
        bar_count=len(bars),
        first_ts=first_ts,
        last_ts=last_ts,
        violations=tuple(sorted(rejecting, key=_sort_key)),
        warnings=tuple(sorted(warnings, key=_sort_key)),
    )


def check_bars(
    symbol: str,
    bars: pd.DataFrame,
    *,
    timeframe: Timeframe | str,
    calendar: str = "XNYS",
    gap_policy: GapPolicy | str | None = None,
) -> QualityReport:
    """Validate like :func:`validate_bars` and raise if any rule rejects the frame.

    Returns
    -------
    QualityReport
        The report of a frame that passed (it may still carry warnings).

    Raises
    ------
    DataQualityError
        Carrying every violation in ``violations``; the message reads
        "N bars of AAPL failed validation: <first three>; ... and K more".
    """
    report = validate_bars(symbol, bars, timeframe=timeframe, calendar=calendar, gap_policy=gap_policy)
    if not report.ok:
        raise DataQualityError(
            report.error_message(),
            violations=list(report.violations),
            details={
                "symbol": report.symbol,
                "timeframe": report.timeframe.value,
                "calendar": report.calendar,
                "counts": {rule.value: n for rule, n in report.violation_counts.items()},
            },
        )
    return report


def validate_frame_shape(symbol: str, bars: pd.DataFrame) -> list[Violation]:
    """Check only the shape of a bar frame: required numeric columns and a UTC index.

    Returns
    -------
    list of Violation
        Empty when the frame has every bar column as a real numeric dtype and a
        timezone-aware UTC ``DatetimeIndex`` without ``NaT``.
    """
    symbol = normalize_symbol(symbol)
    if not isinstance(bars, pd.DataFrame):
        raise InvalidInput(f"bars must be a pandas DataFrame, was {type(bars).__name__}")
    found: list[Violation] = []
    _check_columns(symbol, bars, found)
    _check_index(symbol, bars.index, found)
    return sorted(found, key=_sort_key)


# ----------------------------------------------------------------------------- helpers

def _parse_policy(value: GapPolicy | str | None, timeframe: Timeframe) -> GapPolicy:
    if value is None:
        return GapPolicy.default_for(timeframe)
    try:
        return GapPolicy(value)
    except ValueError:
        allowed = ", ".join(p.value for p in GapPolicy)
        raise InvalidInput(f"gap_policy must be one of {allowed}, was {value!r}") from None


def _sort_key(v: Violation) -> tuple[int, datetime, int]:
    if v.ts is None:
        return (0, _EPOCH, _RULE_ORDER[v.rule])
    return (1, v.ts, _RULE_ORDER[v.rule])


def _to_datetime(ns: int) -> datetime:
    # Violations carry microsecond datetimes; bars never have sub-microsecond labels.
    return _EPOCH + timedelta(microseconds=ns // 1000)


def _num(value: float) -> str:
    return repr(float(value))


def _hhmm(ns: int) -> str:
    return _to_datetime(ns).strftime("%H:%M")


@dataclass(frozen=True, slots=True)
class _Sessions:
    name: str
    days_ns: np.ndarray  # session date at midnight UTC
    opens_ns: np.ndarray
    closes_ns: np.ndarray
    break_starts_ns: np.ndarray  # _NAT where the session has no break
    break_ends_ns: np.ndarray
    has_breaks: bool


@lru_cache(maxsize=16)
def _calendar_arrays(name: str) -> _Sessions:
    cal = get_calendar(name)
    days = pd.DatetimeIndex(cal.sessions).as_unit("ns").asi8.copy()  # naive midnight == UTC midnight
    opens = pd.DatetimeIndex(cal.opens).as_unit("ns").asi8.copy()
    closes = pd.DatetimeIndex(cal.closes).as_unit("ns").asi8.copy()
    b_start = pd.DatetimeIndex(cal.break_starts).as_unit("ns").asi8.copy()
    b_end = pd.DatetimeIndex(cal.break_ends).as_unit("ns").asi8.copy()
    return _Sessions(name, days, opens, closes, b_start, b_end, bool((b_start != _NAT).any()))


def _check_columns(symbol: str, bars: pd.DataFrame, out: list[Violation]) -> dict[str, np.ndarray]:
    usable: dict[str, np.ndarray] = {}
    for column in BAR_COLUMNS:
        if column not in bars.columns:
            out.append(Violation(
                symbol=symbol, ts=None, rule=QualityRule.MISSING_COLUMN,
                message=f"column {column} is missing; a bar frame needs {', '.join(BAR_COLUMNS)}",
            ))
            continue
        series = bars[column]
        if isinstance(series, pd.DataFrame):
            out.append(Violation(
                symbol=symbol, ts=None, rule=QualityRule.MISSING_COLUMN,
                message=f"column {column} appears {series.shape[1]} times; it must appear once",
            ))
            continue
        dtype = series.dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype) \
                or pd.api.types.is_complex_dtype(dtype):
            out.append(Violation(
                symbol=symbol, ts=None, rule=QualityRule.NON_NUMERIC_COLUMN,
                message=f"column {column} must be numeric (float64), was {dtype}",
            ))
            continue
        usable[column] = series.to_numpy(dtype="float64", na_value=np.nan)
    return usable


def _is_utc(tz: object) -> bool:
    return str(tz) in {"UTC", "Etc/UTC", "UCT", "Etc/UCT", "Zulu", "Etc/Zulu", "Universal", "Etc/Universal"}


def _check_index(symbol: str, index: pd.Index, out: list[Violation]) -> np.ndarray | None:
    """Return the index as int64 UTC nanoseconds (``_NAT`` for NaT), or None if unusable."""
    if isinstance(index, pd.DatetimeIndex):
        if index.tz is None:
            if len(index):
                out.append(Violation(
                    symbol=symbol, ts=None, rule=QualityRule.NAIVE_TIMESTAMP,
                    message="index is timezone-naive; bar timestamps must be aware UTC "
                            f"(first value {index[0]})",
                ))
                return None
            return np.array([], dtype="int64")
        if not _is_utc(index.tz):
            out.append(Violation(
                symbol=symbol, ts=None, rule=QualityRule.NOT_UTC,
                message=f"index is in time zone {index.tz}; bar timestamps must be in UTC",
            ))
        ts_ns = index.tz_convert("UTC").as_unit("ns").asi8.copy()
    elif index.dtype == object and len(index):
        ts_ns = _object_index(symbol, index, out)
        if ts_ns is None:
            return None
    elif len(index) == 0:
        return np.array([], dtype="int64")
    else:
        out.append(Violation(
            symbol=symbol, ts=None, rule=QualityRule.INVALID_INDEX,
            message=f"index must be a DatetimeIndex of aware UTC timestamps, was {type(index).__name__} "
                    f"of {index.dtype}",
        ))
        return None
    nat = np.flatnonzero(ts_ns == _NAT)
    for pos in nat:
        out.append(Violation(
            symbol=symbol, ts=None, rule=QualityRule.INVALID_INDEX,
            message=f"row {pos} has no timestamp (NaT)",
        ))
    return ts_ns


def _object_index(symbol: str, index: pd.Index, out: list[Violation]) -> np.ndarray | None:
    # An object index of datetimes arises when frames in different zones are concatenated.
    zones: dict[str, int] = {}
    for pos, value in enumerate(index):
        if not isinstance(value, datetime):
            out.append(Violation(
                symbol=symbol, ts=None, rule=QualityRule.INVALID_INDEX,
                message=f"index must hold timestamps; row {pos} is {type(value).__name__} {value!r}",
            ))
            return None
        zones.setdefault("naive" if value.tzinfo is None else str(value.tzinfo), pos)
    if "naive" in zones and len(zones) > 1:
        listed = ", ".join(f"{zone} (first at row {pos})" for zone, pos in zones.items())
        out.append(Violation(
            symbol=symbol, ts=None, rule=QualityRule.MIXED_TIMEZONES,
            message=f"index mixes naive and aware timestamps: {listed}",
        ))
        return None
    if "naive" in zones:
        out.append(Violation(
            symbol=symbol, ts=None, rule=QualityRule.NAIVE_TIMESTAMP,
            message=f"index is timezone-naive; bar timestamps must be aware UTC (first value {index[0]})",
        ))
        return None
    if len(zones) > 1:
        listed = ", ".join(f"{zone} (first at row {pos})" for zone, pos in zones.items())
        out.append(Violation(
            symbol=symbol, ts=None, rule=QualityRule.MIXED_TIMEZONES,
            message=f"index mixes time zones {listed}; convert every timestamp to UTC",
        ))
    elif not _is_utc(next(iter(zones))):
        out.append(Violation(
            symbol=symbol, ts=None, rule=QualityRule.NOT_UTC,
            message=f"index is in time zone {next(iter(zones))}; bar timestamps must be in UTC",
        ))
    return pd.DatetimeIndex(pd.to_datetime(list(index), utc=True)).as_unit("ns").asi8.copy()


_Locate = Callable[[int], tuple[str, datetime | None, str]]


def _locator(symbol: str, index: pd.Index, ts_ns: np.ndarray | None) -> _Locate:
    """Map a row position to (symbol, ts, message prefix); rows without a usable ts name the row."""
    def locate(pos: int) -> tuple[str, datetime | None, str]:
        if ts_ns is not None and ts_ns[pos] != _NAT:
            return symbol, _to_datetime(int(ts_ns[pos])), ""
        return symbol, None, f"row {pos} ({index[pos]}): "
    return locate


def _emit(out: list[Violation], locate: _Locate, positions: np.ndarray, rule: QualityRule,
          describe: Callable[[int], str]) -> None:
    for pos in positions.tolist():
        symbol, ts, prefix = locate(pos)
        out.append(Violation(symbol=symbol, ts=ts, rule=rule, message=prefix + describe(pos)))


_NON_FINITE = "{name} is {value}; bar values must be finite"
_NON_POSITIVE = "{name} {value} must be positive"


def _describer(name: str, values: np.ndarray, template: str) -> Callable[[int], str]:
    def describe(pos: int) -> str:
        return template.format(name=name, value=_num(values[pos]))
    return describe


def _check_values(columns: dict[str, np.ndarray], locate: _Locate, out: list[Violation]) -> None:
    for name, values in columns.items():
        bad = np.flatnonzero(~np.isfinite(values))
        _emit(out, locate, bad, QualityRule.NON_FINITE_VALUE, _describer(name, values, _NON_FINITE))
    for name in PRICE_COLUMNS:
        if name in columns:
            values = columns[name]
            with np.errstate(invalid="ignore"):
                bad = np.flatnonzero(values <= 0)
            _emit(out, locate, bad, QualityRule.NON_POSITIVE_PRICE, _describer(name, values, _NON_POSITIVE))
    have = columns.keys()
    if {"open", "high", "close"} <= have:
        o, h, c = columns["open"], columns["high"], columns["close"]
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero((h < o) | (h < c))

        def high_message(p: int) -> str:
            if h[p] < o[p] and h[p] < c[p]:
                return f"high {_num(h[p])} is below open {_num(o[p])} and close {_num(c[p])}"
            name, other = ("open", o[p]) if h[p] < o[p] else ("close", c[p])
            return f"high {_num(h[p])} is below {name} {_num(other)}"
        _emit(out, locate, bad, QualityRule.HIGH_BELOW_OPEN_CLOSE, high_message)
    if {"open", "low", "close"} <= have:
        o, low, c = columns["open"], columns["low"], columns["close"]
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero((low > o) | (low > c))

        def low_message(p: int) -> str:
            if low[p] > o[p] and low[p] > c[p]:
                return f"low {_num(low[p])} is above open {_num(o[p])} and close {_num(c[p])}"
            name, other = ("open", o[p]) if low[p] > o[p] else ("close", c[p])
            return f"low {_num(low[p])} is above {name} {_num(other)}"
        _emit(out, locate, bad, QualityRule.LOW_ABOVE_OPEN_CLOSE, low_message)
    if {"high", "low"} <= have:
        h, low = columns["high"], columns["low"]
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(h < low)
        _emit(out, locate, bad, QualityRule.HIGH_BELOW_LOW,
              lambda p: f"high {_num(h[p])} is below low {_num(low[p])}")
    if "volume" in have:
        v = columns["volume"]
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(v < 0)
        _emit(out, locate, bad, QualityRule.NEGATIVE_VOLUME,
              lambda p: f"volume {_num(v[p])} must not be negative")


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    # np.unique hashes in NumPy 2.3+, which is several times slower than a sort here.
    ordered = np.sort(values)
    keep = np.ones(ordered.size, dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


def _check_order(symbol: str, values: np.ndarray, positions: np.ndarray, out: list[Violation]) -> None:
    if values.size < 2:
        return
    duplicated = np.flatnonzero(pd.Index(values).duplicated(keep="first"))
    if duplicated.size:
        order = np.argsort(values, kind="stable")
        ordered = values[order]
        starts = np.ones(ordered.size, dtype=bool)
        starts[1:] = ordered[1:] != ordered[:-1]
        distinct, first_index = ordered[starts], order[starts]
    for i in duplicated.tolist():
        first = int(first_index[np.searchsorted(distinct, values[i])])
        out.append(Violation(
            symbol=symbol, ts=_to_datetime(int(values[i])), rule=QualityRule.DUPLICATE_TIMESTAMP,
            message=f"row {positions[i]} repeats the timestamp of row {positions[first]}",
        ))
    earlier = np.flatnonzero(values[1:] < values[:-1]) + 1
    for i in earlier.tolist():
        out.append(Violation(
            symbol=symbol, ts=_to_datetime(int(values[i])), rule=QualityRule.NOT_SORTED,
            message=f"row {positions[i]} is earlier than the row before it "
                    f"({_to_datetime(int(values[i - 1])).isoformat()}); bars must be in increasing time order",
        ))


def _range_text(sessions: _Sessions) -> str:
    first = _to_datetime(int(sessions.days_ns[0])).date()
    last = _to_datetime(int(sessions.days_ns[-1])).date()
    return f"{first}..{last}"


def _check_daily(symbol: str, unique: np.ndarray, sessions: _Sessions, policy: GapPolicy,
                 out: list[Violation], gaps: list[Violation]) -> None:
    if unique.size == 0:
        return
    remainder = np.mod(unique, _NS_PER_DAY)
    for i in np.flatnonzero(remainder != 0).tolist():
        out.append(Violation(
            symbol=symbol, ts=_to_datetime(int(unique[i])), rule=QualityRule.MISALIGNED_TIMESTAMP,
            message=f"daily bar is labelled {_hhmm(int(unique[i]))} UTC; a daily label is the "
                    "session date at 00:00 UTC",
        ))
    days = unique - remainder
    days_table = sessions.days_ns
    pos = np.searchsorted(days_table, days)
    on_session = (pos < days_table.size) & (days_table[np.minimum(pos, days_table.size - 1)] == days)
    for i in np.flatnonzero(~on_session).tolist():
        day = _to_datetime(int(days[i])).date()
        if days[i] < days_table[0] or days[i] > days_table[-1]:
            why = f"{day} is outside the {sessions.name} calendar's range {_range_text(sessions)}"
        else:
            why = f"{day} ({day.strftime('%A')}) is not a session of the {sessions.name} calendar"
        out.append(Violation(symbol=symbol, ts=_to_datetime(int(unique[i])),
                             rule=QualityRule.OUTSIDE_SESSION, message=why))
    if policy is GapPolicy.IGNORE:
        return
    present = _sorted_unique(days[on_session])
    if present.size == 0:
        return
    lo, hi = np.searchsorted(days_table, present[0]), np.searchsorted(days_table, present[-1])
    expected = days_table[lo:hi + 1]
    hit = np.searchsorted(present, expected)
    found = present[np.minimum(hit, present.size - 1)] == expected
    missing = expected[~found]
    for day_ns in missing.tolist():
        day = _to_datetime(day_ns).date()
        gaps.append(Violation(
            symbol=symbol, ts=_to_datetime(day_ns), rule=QualityRule.MISSING_SESSION,
            message=f"no bar for {sessions.name} session {day} ({day.strftime('%A')})",
        ))


def _check_intraday(symbol: str, unique: np.ndarray, timeframe: Timeframe, sessions: _Sessions,
                    policy: GapPolicy, out: list[Violation], gaps: list[Violation]) -> None:
    if unique.size == 0:
        return
    opens, closes = sessions.opens_ns, sessions.closes_ns
    idx = np.searchsorted(opens, unique, side="right") - 1
    safe = np.maximum(idx, 0)
    inside = (idx >= 0) & (unique < closes[safe])
    if sessions.has_breaks:
        b_start, b_end = sessions.break_starts_ns[safe], sessions.break_ends_ns[safe]
        in_break = (b_start != _NAT) & (unique >= b_start) & (unique < b_end)
        inside &= ~in_break
    for i in np.flatnonzero(~inside).tolist():
        ts_ns = int(unique[i])
        if idx[i] < 0 or (idx[i] == opens.size - 1 and ts_ns >= closes[-1]):
            why = (f"bar opening {_to_datetime(ts_ns).isoformat()} is outside the {sessions.name} "
                   f"calendar's range {_range_text(sessions)}")
        else:
            day = _to_datetime(int(sessions.days_ns[idx[i]])).date()
            why = (f"bar opening {_hhmm(ts_ns)} UTC is outside every {sessions.name} session; the "
                   f"session of {day} trades {_hhmm(int(opens[idx[i]]))}-{_hhmm(int(closes[idx[i]]))} UTC")
            if sessions.has_breaks and sessions.break_starts_ns[idx[i]] != _NAT:
                why += (f" with a break {_hhmm(int(sessions.break_starts_ns[idx[i]]))}-"
                        f"{_hhmm(int(sessions.break_ends_ns[idx[i]]))} UTC")
        out.append(Violation(symbol=symbol, ts=_to_datetime(ts_ns), rule=QualityRule.OUTSIDE_SESSION,
                             message=why))

    bar_ns = timeframe.nanos
    ts_in, session_of = unique[inside], idx[inside]
    if ts_in.size == 0:
        return
    open_aligned = np.mod(ts_in - opens[session_of], bar_ns) == 0
    clock_aligned = np.mod(ts_in, bar_ns) == 0
    for i in np.flatnonzero(~(open_aligned | clock_aligned)).tolist():
        ts_ns = int(ts_in[i])
        out.append(Violation(
            symbol=symbol, ts=_to_datetime(ts_ns), rule=QualityRule.MISALIGNED_TIMESTAMP,
            message=f"{timeframe.value} bar opening {_to_datetime(ts_ns).strftime('%H:%M:%S')} UTC is not a "
                    f"whole number of {timeframe.value} bars from the session open "
                    f"{_hhmm(int(opens[session_of[i]]))} UTC or from midnight",
        ))
    if policy is GapPolicy.IGNORE:
        return
    use_clock_grid = int(clock_aligned.sum()) > int(open_aligned.sum())
    _intraday_gaps(symbol, ts_in, session_of, bar_ns, timeframe, sessions, use_clock_grid, gaps)


def _intraday_gaps(symbol: str, ts_in: np.ndarray, session_of: np.ndarray, bar_ns: int,
                   timeframe: Timeframe, sessions: _Sessions, use_clock_grid: bool,
                   gaps: list[Violation]) -> None:
    first_session, last_session = int(session_of[0]), int(session_of[-1])
    span = np.arange(first_session, last_session + 1)
    opens = sessions.opens_ns[span]
    closes = sessions.closes_ns[span]
    starts = -(-opens // bar_ns) * bar_ns if use_clock_grid else opens
    counts = np.maximum(-(-(closes - starts) // bar_ns), 0)

    # Sessions without any bar are whole missing sessions, not runs of missing bars.
    bars_per_session = np.bincount(session_of - first_session, minlength=span.size)
    for k in np.flatnonzero(bars_per_session == 0).tolist():
        day = _to_datetime(int(sessions.days_ns[span[k]])).date()
        gaps.append(Violation(
            symbol=symbol, ts=_to_datetime(int(opens[k])), rule=QualityRule.MISSING_SESSION,
            message=f"no {timeframe.value} bar in {sessions.name} session {day} ({day.strftime('%A')})",
        ))
    counts = np.where(bars_per_session > 0, counts, 0)

    total = int(counts.sum())
    if total == 0:
        return
    session_ids = np.repeat(np.arange(span.size), counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    expected = np.repeat(starts, counts) + offsets * bar_ns
    if sessions.has_breaks:
        b_start = np.repeat(sessions.break_starts_ns[span], counts)
        b_end = np.repeat(sessions.break_ends_ns[span], counts)
        keep = ~((b_start != _NAT) & (expected >= b_start) & (expected < b_end))
        expected, session_ids = expected[keep], session_ids[keep]
    keep = (expected >= ts_in[0]) & (expected <= ts_in[-1])
    expected, session_ids = expected[keep], session_ids[keep]
    pos = np.searchsorted(ts_in, expected)
    found = (pos < ts_in.size) & (ts_in[np.minimum(pos, ts_in.size - 1)] == expected)
    missing = np.flatnonzero(~found)
    if missing.size == 0:
        return
    # Runs of consecutive grid points within one session become one warning each.
    breaks = (np.diff(missing) != 1) | (np.diff(session_ids[missing]) != 0)
    run_starts = np.concatenate(([0], np.flatnonzero(breaks) + 1))
    run_ends = np.concatenate((run_starts[1:], [missing.size])) - 1
    for start, end in zip(run_starts.tolist(), run_ends.tolist(), strict=True):
        first_ns, last_ns = int(expected[missing[start]]), int(expected[missing[end]])
        n = end - start + 1
        day = _to_datetime(int(sessions.days_ns[span[session_ids[missing[start]]]])).date()
        what = (f"1 {timeframe.value} bar missing at {_hhmm(first_ns)} UTC" if n == 1 else
                f"{n} {timeframe.value} bars missing from {_hhmm(first_ns)} to {_hhmm(last_ns)} UTC")
        gaps.append(Violation(
            symbol=symbol, ts=_to_datetime(first_ns), rule=QualityRule.MISSING_BARS_INTRADAY,
            message=f"{what} in {sessions.name} session {day}",
        ))
