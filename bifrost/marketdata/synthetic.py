"""A seeded synthetic equity market for tests, demos and benchmarks.

Returns follow a market + sector factor model with Student-t innovations and a
two-state (calm / turbulent) Markov volatility regime; intraday volume and
volatility follow a U-shaped profile; bars exist only on exchange-calendar sessions.
Everything is vectorised NumPy, so a million one-minute bars take well under a second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from bifrost.core.calendars import get_calendar
from bifrost.core.errors import InvalidInput
from bifrost.marketdata.types import InstrumentInfo, Timeframe, normalize_symbol

__all__ = ["SyntheticMarket", "generate_bars", "generate_market"]

_TRADING_DAYS_PER_YEAR = 252
_NOMINAL_SESSION_MINUTES = 390.0
_NS_PER_MINUTE = 60_000_000_000

_SECTOR_NAMES: tuple[str, ...] = (
    "Information Technology", "Financials", "Health Care", "Industrials", "Energy",
    "Consumer Discretionary", "Consumer Staples", "Communication Services", "Materials",
    "Utilities", "Real Estate",
)
_INDUSTRIES_PER_SECTOR = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class SyntheticMarket:
    """A generated market and the true parameters behind it.

    Attributes
    ----------
    bars
        Bar frame per symbol, all on the same timestamps.
    instruments
        One ``InstrumentInfo`` per symbol, with sector, industry and shares outstanding.
    timeframe, calendar
        What the bars are and which exchange calendar placed them.
    sessions
        Session labels (midnight UTC) the market spans.
    regimes
        Volatility regime per session (index = session label): 0 calm, 1 turbulent.
    loadings
        Per symbol (index): ``sector`` (name), ``market_beta``, ``sector_loading``,
        ``idiosyncratic_volatility_annual`` and ``total_volatility_annual`` (calm regime).
    market_volatility_annual, sector_volatility_annual
        Annualised volatilities of the market and sector factors in the calm regime.
    high_volatility_multiplier
        Factor by which every volatility is scaled in the turbulent regime.
    tail_degrees_of_freedom
        Degrees of freedom of the unit-variance Student-t innovations.
    """

    bars: dict[str, pd.DataFrame]
    instruments: list[InstrumentInfo]
    timeframe: Timeframe
    calendar: str
    sessions: pd.DatetimeIndex
    regimes: pd.Series
    loadings: pd.DataFrame
    market_volatility_annual: float
    sector_volatility_annual: float
    high_volatility_multiplier: float
    tail_degrees_of_freedom: float


def _symbol_names(symbols: int | Sequence[str]) -> list[str]:
    if isinstance(symbols, bool):
        raise InvalidInput(f"symbols must be a positive count or a list of symbols, was {symbols!r}")
    if isinstance(symbols, int):
        if symbols < 1:
            raise InvalidInput(f"symbols must be at least 1, was {symbols}")
        width = max(4, len(str(symbols)))
        return [f"SYN{i:0{width}d}" for i in range(1, symbols + 1)]
    if isinstance(symbols, str):
        raise InvalidInput(f"symbols must be a count or a sequence of symbols, not one string {symbols!r}")
    names = [normalize_symbol(s) for s in symbols]
    if not names:
        raise InvalidInput("symbols must not be empty")
    if len(set(names)) != len(names):
        duplicates = sorted({s for s in names if names.count(s) > 1})
        raise InvalidInput(f"symbols must be unique, duplicated {duplicates}")
    return names


def _as_date(value: date, field: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise InvalidInput(f"{field} must be a date, was {type(value).__name__}")


def _student_t(rng: np.random.Generator, df: float, size: int | tuple[int, ...]) -> np.ndarray:
    # Student-t rescaled to unit variance: Var(t_df) = df / (df - 2).
    return rng.standard_t(df, size=size) * np.sqrt((df - 2.0) / df)


def _regime_path(rng: np.random.Generator, n_sessions: int,
                 stay_probabilities: tuple[float, float]) -> np.ndarray:
    stay_calm, stay_turbulent = stay_probabilities
    leave_calm, leave_turbulent = 1.0 - stay_calm, 1.0 - stay_turbulent
    # Start from the stationary distribution of the two-state chain.
    turbulent_share = leave_calm / (leave_calm + leave_turbulent)
    draws = rng.random(n_sessions)
    path = np.empty(n_sessions, dtype=np.int8)
    state = int(draws[0] < turbulent_share)
    path[0] = state
    for s in range(1, n_sessions):
        leave = leave_turbulent if state else leave_calm
        if draws[s] < leave:
            state = 1 - state
        path[s] = state
    return path


def _intraday_profile(position: np.ndarray) -> np.ndarray:
    # U-shaped activity over the session (position 0 = open, 1 = close): about 3x the
    # midday level at the open and 2.5x at the close, decaying over ~20 minutes of a
    # 390-minute day. Used for both volume and variance.
    return 1.0 + 2.0 * np.exp(-position / 0.05) + 1.5 * np.exp(-(1.0 - position) / 0.05)


def _check_positive(name: str, value: float) -> None:
    if not np.isfinite(value) or value <= 0:
        raise InvalidInput(f"{name} must be positive, was {value}")


def generate_market(
    *,
    symbols: int | Sequence[str],
    start: date,
    end: date,
    timeframe: Timeframe = Timeframe.D1,
    seed: int | np.random.Generator,
    sectors: int = 5,
    calendar: str = "XNYS",
    market_volatility_annual: float = 0.15,
    sector_volatility_annual: float = 0.10,
    idiosyncratic_volatility_annual: float = 0.20,
    drift_annual: float = 0.06,
    tail_degrees_of_freedom: float = 4.5,
    high_volatility_multiplier: float = 2.0,
    regime_stay_probabilities: tuple[float, float] = (0.98, 0.94),
    overnight_variance_share: float = 0.15,
    initial_price_range: tuple[float, float] = (20.0, 200.0),
) -> SyntheticMarket:
    """Generate correlated, fat-tailed, regime-switching bars on exchange sessions.

    Parameters
    ----------
    symbols
        A count (symbols ``SYN0001``, ``SYN0002``, ...) or the symbols to use.
    start, end
        First and last calendar dates, inclusive; bars are made for every session
        of ``calendar`` in between.
    timeframe
        Bar size. Intraday bars start at each session's open every ``timeframe``;
        the last bar of a session is cut at the close (half days respected).
    seed
        Seed or ``Generator``; the same seed gives identical output.
    sectors
        Number of sectors; symbol ``i`` belongs to sector ``i mod sectors``.
    calendar
        ``exchange_calendars`` name.
    market_volatility_annual, sector_volatility_annual
        Annualised volatility of the market and sector factors (calm regime).
    idiosyncratic_volatility_annual
        Mean annualised idiosyncratic volatility; each symbol draws 0.6x-1.4x of it.
    drift_annual
        Expected annual log-price growth before the volatility (Ito) correction.
    tail_degrees_of_freedom
        Degrees of freedom of the Student-t innovations (must exceed 2); 4.5 gives
        an excess kurtosis of 12 per innovation.
    high_volatility_multiplier
        Volatility of the turbulent regime relative to the calm one.
    regime_stay_probabilities
        Per-session probability of staying calm and of staying turbulent.
    overnight_variance_share
        Share of a full session's variance that falls in the overnight gap.
    initial_price_range
        Range of the log-uniform starting prices.

    Returns
    -------
    SyntheticMarket
        The bars and the true parameters (loadings, regime path).

    Raises
    ------
    InvalidInput
        For an empty or duplicated symbol list, a range with no sessions or outside
        the calendar, or parameters out of range.

    Notes
    -----
    The log-return of symbol ``i`` over step ``k`` (the overnight gap or one bar) is

    ``r_ik = mu_i w_k + v_s sqrt(w_k / 252) (b_i sm M_k + g_i ss S_{c(i),k} + se_i E_ik)``

    where ``M``, ``S_c`` and ``E_i`` are independent unit-variance Student-t draws,
    ``w_k`` is the step's share of a nominal 390-minute session's variance (the
    overnight gap gets ``overnight_variance_share``; bars share the rest along the
    U-shaped profile, half days proportionally less), ``v_s`` is 1 in calm sessions
    and ``high_volatility_multiplier`` in turbulent ones, and ``mu_i`` includes the
    ``-sigma^2 / 2`` correction. Correlation between two symbols is
    ``(b_i b_j sm^2 + [c(i) = c(j)] g_i g_j ss^2) / (sigma_i sigma_j)``, higher
    within a sector. A bar's open is the previous bar's close, except that the first
    bar of a session opens after the overnight gap; its high and low extend
    ``max(open, close)`` and ``min(open, close)`` by ``0.5 sigma_bar |N(0, 1)|``
    in log terms, so ``0 < low <= open, close <= high`` always holds. Volume is
    daily turnover of the shares outstanding spread along the same U-shaped
    profile, 1.5x in turbulent sessions, higher on large moves, with log-normal noise.
    Prices are not rounded to ticks.
    """
    rng = np.random.default_rng(seed)
    names = _symbol_names(symbols)
    timeframe = Timeframe.parse(timeframe)
    start = _as_date(start, "start")
    end = _as_date(end, "end")
    if start > end:
        raise InvalidInput(f"start must not be after end, was {start} > {end}")
    if isinstance(sectors, bool) or not isinstance(sectors, int) or sectors < 1:
        raise InvalidInput(f"sectors must be a positive integer, was {sectors!r}")
    for field, value in (
        ("market_volatility_annual", market_volatility_annual),
        ("sector_volatility_annual", sector_volatility_annual),
        ("idiosyncratic_volatility_annual", idiosyncratic_volatility_annual),
        ("high_volatility_multiplier", high_volatility_multiplier),
    ):
        _check_positive(field, value)
    if not tail_degrees_of_freedom > 2:
        raise InvalidInput(
            f"tail_degrees_of_freedom must exceed 2 for a finite variance, was {tail_degrees_of_freedom}"
        )
    if not all(0.0 < p < 1.0 for p in regime_stay_probabilities) or len(regime_stay_probabilities) != 2:
        raise InvalidInput(
            f"regime_stay_probabilities must be two probabilities in (0, 1), was {regime_stay_probabilities}"
        )
    if not 0.0 <= overnight_variance_share < 1.0:
        raise InvalidInput(f"overnight_variance_share must be in [0, 1), was {overnight_variance_share}")
    low_price, high_price = initial_price_range
    if not 0 < low_price <= high_price:
        raise InvalidInput(f"initial_price_range must be 0 < low <= high, was {initial_price_range}")

    cal = get_calendar(calendar)
    if pd.Timestamp(start) < cal.first_session or pd.Timestamp(end) > cal.last_session:
        raise InvalidInput(
            f"start and end must lie within the {calendar} calendar "
            f"{cal.first_session.date()}..{cal.last_session.date()}, was {start}..{end}"
        )
    schedule = cal.schedule.loc[pd.Timestamp(start):pd.Timestamp(end)]
    n_sessions = len(schedule)
    if n_sessions == 0:
        raise InvalidInput(f"no {calendar} sessions between {start} and {end}")
    open_ns = schedule["open"].to_numpy(dtype="datetime64[ns]").view("int64")
    close_ns = schedule["close"].to_numpy(dtype="datetime64[ns]").view("int64")
    session_labels = pd.DatetimeIndex(schedule.index, name="session").tz_localize("UTC")
    session_minutes = (close_ns - open_ns) / _NS_PER_MINUTE
    session_scale = session_minutes / _NOMINAL_SESSION_MINUTES  # 1 on a full day

    # --- bar layout -------------------------------------------------------------
    if timeframe.is_intraday:
        step_ns = timeframe.nanos
        bars_per_session = -(-(close_ns - open_ns) // step_ns)
        n_bars = int(bars_per_session.sum())
        session_of_bar = np.repeat(np.arange(n_sessions), bars_per_session)
        first_bar = np.concatenate(([0], np.cumsum(bars_per_session)[:-1]))
        bar_in_session = np.arange(n_bars) - first_bar[session_of_bar]
        ts_ns = open_ns[session_of_bar] + bar_in_session * step_ns
        bar_end_ns = np.minimum(ts_ns + step_ns, close_ns[session_of_bar])
        position = ((ts_ns + bar_end_ns) / 2 - open_ns[session_of_bar]) / (
            close_ns[session_of_bar] - open_ns[session_of_bar]
        )
        activity = _intraday_profile(position) * (bar_end_ns - ts_ns) / _NS_PER_MINUTE
        activity_total = np.bincount(session_of_bar, weights=activity, minlength=n_sessions)
        bar_share = activity / activity_total[session_of_bar] * session_scale[session_of_bar]
        index = pd.DatetimeIndex(ts_ns.view("datetime64[ns]"), name="ts").tz_localize("UTC")
    else:
        n_bars = n_sessions
        session_of_bar = np.arange(n_sessions)
        first_bar = np.arange(n_sessions)
        bar_share = session_scale.copy()
        index = pd.DatetimeIndex(session_labels, name="ts")

    # Steps interleave one overnight gap before each session's bars.
    n_steps = n_sessions + n_bars
    bar_step = np.arange(n_bars) + session_of_bar + 1
    gap_step = first_bar + np.arange(n_sessions)
    regimes = _regime_path(rng, n_sessions, regime_stay_probabilities)
    regime_scale = np.where(regimes == 1, high_volatility_multiplier, 1.0)
    weight = np.empty(n_steps)
    weight[gap_step] = overnight_variance_share * session_scale
    weight[bar_step] = (1.0 - overnight_variance_share) * bar_share
    step_regime_scale = np.empty(n_steps)
    step_regime_scale[gap_step] = regime_scale
    step_regime_scale[bar_step] = regime_scale[session_of_bar]
    step_scale = step_regime_scale * np.sqrt(weight / _TRADING_DAYS_PER_YEAR)

    # --- true parameters ----------------------------------------------------------
    n_symbols = len(names)
    sector_of = np.arange(n_symbols) % sectors
    used_sectors = np.unique(sector_of)
    betas = rng.uniform(0.6, 1.4, n_symbols)
    gammas = rng.uniform(0.6, 1.4, n_symbols)
    idio_vols = idiosyncratic_volatility_annual * rng.uniform(0.6, 1.4, n_symbols)
    total_vols = np.sqrt(
        (betas * market_volatility_annual) ** 2
        + (gammas * sector_volatility_annual) ** 2
        + idio_vols**2
    )
    start_prices = np.exp(rng.uniform(np.log(low_price), np.log(high_price), n_symbols))
    shares_outstanding = np.exp(rng.uniform(np.log(1e8), np.log(5e9), n_symbols)).astype(np.int64)
    turnover = 0.004 * np.exp(rng.normal(0.0, 0.3, n_symbols))
    industries = rng.integers(0, _INDUSTRIES_PER_SECTOR, n_symbols)
    sector_names = [
        _SECTOR_NAMES[c] if c < len(_SECTOR_NAMES) else f"Sector {c + 1}" for c in range(sectors)
    ]

    market_factor = market_volatility_annual * _student_t(rng, tail_degrees_of_freedom, n_steps)
    sector_factor = np.zeros((sectors, n_steps))
    for c in used_sectors:
        sector_factor[c] = sector_volatility_annual * _student_t(rng, tail_degrees_of_freedom, n_steps)

    bar_scale = step_scale[bar_step]
    volume_regime = np.where(regimes[session_of_bar] == 1, 1.5, 1.0)
    bars: dict[str, pd.DataFrame] = {}
    instruments: list[InstrumentInfo] = []
    for i, symbol in enumerate(names):
        shock = (
            betas[i] * market_factor
            + gammas[i] * sector_factor[sector_of[i]]
            + idio_vols[i] * _student_t(rng, tail_degrees_of_freedom, n_steps)
        )
        variance = (step_scale * total_vols[i]) ** 2
        drift = drift_annual * weight / _TRADING_DAYS_PER_YEAR - 0.5 * variance
        log_price = np.log(start_prices[i]) + np.cumsum(drift + step_scale * shock)
        previous = np.concatenate(([np.log(start_prices[i])], log_price[:-1]))
        open_log = previous[bar_step]
        close_log = log_price[bar_step]
        bar_sigma = bar_scale * total_vols[i]
        wick_up, wick_down, volume_noise = rng.standard_normal((3, n_bars))
        high_log = np.maximum(open_log, close_log) + 0.5 * bar_sigma * np.abs(wick_up)
        low_log = np.minimum(open_log, close_log) - 0.5 * bar_sigma * np.abs(wick_down)
        move = np.abs(close_log - open_log) / bar_sigma
        volume = (
            shares_outstanding[i] * turnover[i] * bar_share * volume_regime
            * (0.75 + 0.3 * move) * np.exp(0.3 * volume_noise - 0.045)
        )
        bars[symbol] = pd.DataFrame(
            {
                "open": np.exp(open_log),
                "high": np.exp(high_log),
                "low": np.exp(low_log),
                "close": np.exp(close_log),
                "volume": np.maximum(np.rint(volume), 1.0),
            },
            index=index,
        )
        sector_name = sector_names[sector_of[i]]
        instruments.append(
            InstrumentInfo(
                symbol=symbol,
                name=f"Synthetic {symbol}",
                exchange=calendar,
                sector=sector_name,
                industry=f"{sector_name} industry {industries[i] + 1}",
                country="US" if calendar == "XNYS" else "",
                shares_outstanding=int(shares_outstanding[i]),
                calendar=calendar,
            )
        )

    loadings = pd.DataFrame(
        {
            "sector": [sector_names[c] for c in sector_of],
            "market_beta": betas,
            "sector_loading": gammas,
            "idiosyncratic_volatility_annual": idio_vols,
            "total_volatility_annual": total_vols,
        },
        index=pd.Index(names, name="symbol"),
    )
    return SyntheticMarket(
        bars=bars,
        instruments=instruments,
        timeframe=timeframe,
        calendar=calendar,
        sessions=pd.DatetimeIndex(session_labels, name="session"),
        regimes=pd.Series(regimes, index=session_labels, name="regime"),
        loadings=loadings,
        market_volatility_annual=market_volatility_annual,
        sector_volatility_annual=sector_volatility_annual,
        high_volatility_multiplier=high_volatility_multiplier,
        tail_degrees_of_freedom=tail_degrees_of_freedom,
    )


def generate_bars(
    *,
    symbol: str = "SYN0001",
    start: date,
    end: date,
    timeframe: Timeframe = Timeframe.D1,
    seed: int | np.random.Generator,
    calendar: str = "XNYS",
    **parameters: Any,
) -> pd.DataFrame:
    """Generate the bar frame of one synthetic symbol.

    Parameters
    ----------
    symbol, start, end, timeframe, seed, calendar
        As in :func:`generate_market`.
    **parameters
        Any other keyword of :func:`generate_market` (volatilities, tails, regimes).

    Returns
    -------
    pandas.DataFrame
        The bars of ``generate_market(symbols=[symbol], sectors=1, ...)``.
    """
    market = generate_market(
        symbols=[symbol], start=start, end=end, timeframe=timeframe, seed=seed,
        sectors=1, calendar=calendar, **parameters,
    )
    return market.bars[normalize_symbol(symbol)]
