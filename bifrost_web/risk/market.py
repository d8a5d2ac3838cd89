"""The market side of a risk book: prices, returns, volumes and company data from stored bars.

Series are cached in process: they move only when bars, corporate actions or company data are
stored, and the pre-trade path must not re-read hundreds of series per order. Every such write
bumps the market version (:func:`market_changed`, connected to the stored models' signals;
with Redis every process sees it at once), which drops the entries here and the risk books
built on them. ``BIFROST_RISK_CACHE_SECONDS`` (default 900) bounds an entry's life otherwise,
for writes that bypass the signals. (At 60 s, the old default, every process re-read all of a
500-name book's series once a minute: 2.5 s in one request.)
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.conf import settings

from bifrost.core.errors import NotFoundError
from bifrost.marketdata.types import normalize_symbol
from bifrost_web import caching
from bifrost_web.marketdata import models as md_models
from bifrost_web.marketdata import selectors as md_selectors

_ADV_DAYS = 20
# every entry: (expiry on the monotonic clock, market version, value...)
_cache: dict[str, tuple[float, int, pd.DataFrame | None, float | None]] = {}  # ..., frame, last close
_info_cache: dict[str, tuple[float, int, dict]] = {}
_model_cache: dict[tuple[frozenset[str], int], tuple[float, int, MarketModel]] = {}
MARKET_VERSION_KEY = "bifrost:risk:market-version"
caching.register_version_keys(MARKET_VERSION_KEY)


def _ttl() -> float:
    return float(getattr(settings, "BIFROST_RISK_CACHE_SECONDS", 900))


def market_version() -> int:
    return caching.versions([MARKET_VERSION_KEY])[MARKET_VERSION_KEY]


def _fresh(hit, now: float, version: int) -> bool:
    return hit is not None and hit[0] > now and hit[1] == version


def market_changed(sender=None, instance=None, **kwargs) -> None:
    """Signal receiver: bars, corporate actions or company data were stored; every process re-reads them.

    Connected to successful ingest runs (every bar write records one), instruments (sector,
    industry, calendar; a deletion takes its bars), corporate actions (adjusted closes) and
    company snapshots (betas). This process forgets at once; the shared version moves when
    the transaction commits.
    """
    from django.db import transaction

    if sender is not None and sender._meta.model_name == "ingestrun" and instance is not None \
            and instance.status != "succeeded":
        return
    clear_cache()

    def after_commit() -> None:
        caching.bump(MARKET_VERSION_KEY)
        clear_cache()

    transaction.on_commit(after_commit, robust=True)


def clear_cache() -> None:
    """Forget cached series (after an ingest, and between tests)."""
    _cache.clear()
    _info_cache.clear()
    _model_cache.clear()
    from bifrost_web.risk import services

    services._nav_cache.forget()
    services._LIMITS_CACHE.clear()
    services._BOOK_CACHE.clear()
    services._ORDERS_CACHE.clear()
    services._portfolio_cache.forget()


def daily_history(symbol: str) -> pd.DataFrame | None:
    """Adjusted daily ``close`` and ``volume`` of ``symbol`` (all stored bars), or ``None`` if none are stored."""
    now, version = time.monotonic(), market_version()
    hit = _cache.get(symbol)
    if _fresh(hit, now, version):
        return hit[2]
    try:
        bars = md_selectors.bars_read(symbol=symbol, timeframe="1d", adjust="all")
    except NotFoundError:
        bars = None
    return _remember(symbol, bars, now, version)


def _remember(symbol: str, bars: pd.DataFrame | None, now: float, version: int) -> pd.DataFrame | None:
    frame = bars[["close", "volume"]].astype(float) if bars is not None and not bars.empty else None
    if frame is not None:
        frame.index = pd.DatetimeIndex(frame.index).tz_convert("UTC").normalize() if frame.index.tz is not None \
            else pd.DatetimeIndex(frame.index).normalize()
        frame = frame[~frame.index.duplicated(keep="last")]
    last = float(frame["close"].iloc[-1]) if frame is not None and not frame.empty else None
    _cache[symbol] = (now + _ttl(), version, frame, last)
    return frame


def _prefetch_histories(symbols: list[str]) -> None:
    """Read the daily histories this process does not hold in one batch (a 500-name book: 1.5 s, not 2.5 s)."""
    now, version = time.monotonic(), market_version()
    missing = [s for s in symbols if not _fresh(_cache.get(s), now, version)]
    if len(missing) < 2:
        return
    found = md_selectors.bars_read_many(symbols=missing, timeframe="1d", adjust="all")
    for symbol in missing:
        _remember(symbol, found.get(normalize_symbol(symbol)), now, version)


def last_close(symbol: str) -> float | None:
    """The latest adjusted daily close of ``symbol`` (cached with its history), or ``None`` without bars."""
    hit = _cache.get(symbol)
    if not _fresh(hit, time.monotonic(), market_version()):
        daily_history(symbol)
        hit = _cache[symbol]
    return hit[3]


def instrument_info(symbols: Iterable[str]) -> dict[str, dict]:
    """Sector, industry, country, currency and the latest company beta by symbol."""
    now, version = time.monotonic(), market_version()
    out, missing = {}, []
    for symbol in symbols:
        hit = _info_cache.get(symbol)
        if _fresh(hit, now, version):
            out[symbol] = hit[2]
        else:
            missing.append(symbol)
    if missing:
        rows = {r["symbol"]: r for r in md_models.Instrument.objects.filter(symbol__in=missing).values(
            "id", "symbol", "sector", "industry", "country", "currency")}
        betas = {}
        for snapshot in md_models.CompanySnapshot.objects.filter(
                instrument_id__in=[r["id"] for r in rows.values()], beta__isnull=False).order_by("as_of").values(
                "instrument_id", "beta"):
            betas[snapshot["instrument_id"]] = snapshot["beta"]  # the latest wins
        for symbol in missing:
            row = rows.get(symbol)
            info = {"sector": "", "industry": "", "country": "", "currency": "", "beta": None}
            if row:
                info = {"sector": row["sector"], "industry": row["industry"], "country": row["country"],
                        "currency": row["currency"], "beta": betas.get(row["id"])}
            _info_cache[symbol] = (now + _ttl(), version, info)
            out[symbol] = info
    return out


@dataclass
class MarketModel:
    """Prices, aligned returns and company data for a set of symbols."""

    prices: dict[str, float] = field(default_factory=dict)
    returns: pd.DataFrame = field(default_factory=pd.DataFrame)
    adv: dict[str, float] = field(default_factory=dict)
    info: dict[str, dict] = field(default_factory=dict)
    no_history: list[str] = field(default_factory=list)
    _covariance: np.ndarray | None = None
    _groups: dict[str, dict[str, str]] | None = None

    def _group(self, name: str) -> dict[str, str]:
        if self._groups is None:
            self._groups = {g: {s: i[g] for s, i in self.info.items() if i.get(g)} for g in ("sector", "industry")}
        return self._groups[name]

    @property
    def sectors(self) -> dict[str, str]:
        return self._group("sector")

    @property
    def industries(self) -> dict[str, str]:
        return self._group("industry")

    @property
    def covariance(self) -> np.ndarray | None:
        """Sample covariance of ``returns`` (computed once)."""
        if self.returns.shape[0] < 3 or self.returns.shape[1] == 0:
            return None
        if self._covariance is None:
            self._covariance = np.atleast_2d(np.cov(self.returns.to_numpy(), rowvar=False, ddof=1))
        return self._covariance

    def with_symbol(self, symbol: str) -> MarketModel:
        """This model plus one more symbol, extending the covariance by one row instead of recomputing it."""
        if symbol in self.prices or symbol in self.no_history:
            return self
        extra = market_model([symbol], lookback_days=max(len(self.returns), 20), cache=False)
        model = MarketModel(prices={**self.prices, **extra.prices}, returns=self.returns, adv={**self.adv, **extra.adv},
                            info={**self.info, **extra.info}, no_history=list(self.no_history))
        history = daily_history(symbol)
        cov = self.covariance
        if history is None or symbol not in extra.prices or cov is None:
            model.no_history.append(symbol)
            model._covariance = cov
            return model
        column = history["close"].pct_change(fill_method=None).reindex(self.returns.index)
        if column.isna().any():  # not traded on every date of the book's window
            model.no_history.append(symbol)
            model._covariance = cov
            return model
        r = column.to_numpy()
        matrix = self.returns.to_numpy()
        centred = matrix - matrix.mean(axis=0)
        rc = r - r.mean()
        cross = centred.T @ rc / (len(r) - 1)
        grown = np.empty((cov.shape[0] + 1, cov.shape[0] + 1))
        grown[:-1, :-1] = cov
        grown[:-1, -1] = grown[-1, :-1] = cross
        grown[-1, -1] = rc @ rc / (len(r) - 1)
        model.returns = self.returns.assign(**{symbol: r})
        model._covariance = grown
        return model

    def closes(self, symbols: Iterable[str]) -> pd.DataFrame:
        frames = {s: h["close"] for s in symbols if (h := daily_history(s)) is not None}
        return pd.DataFrame(frames).sort_index()


def market_model(symbols: Iterable[str], *, lookback_days: int = 250, cache: bool = True) -> MarketModel:
    """Last close, the last ``lookback_days`` returns on the dates every symbol with history shares,
    20-day average volume and company data.

    Symbols with fewer than 20 common returns are left out of ``returns`` and listed in
    ``no_history`` (the limits that need them warn instead of passing).
    """
    symbols = sorted(set(symbols))
    key = (frozenset(symbols), lookback_days)
    now, version = time.monotonic(), market_version()
    hit = _model_cache.get(key) if cache else None
    if _fresh(hit, now, version):
        return hit[2]
    model = MarketModel(info=instrument_info(symbols))
    _prefetch_histories(symbols)
    closes = {}
    for symbol in symbols:
        history = daily_history(symbol)
        if history is None or history.empty:
            model.no_history.append(symbol)
            continue
        model.prices[symbol] = float(history["close"].iloc[-1])
        model.adv[symbol] = float(history["volume"].iloc[-_ADV_DAYS:].mean())
        closes[symbol] = history["close"].iloc[-(lookback_days + 1):]
    if closes:
        frame = pd.DataFrame(closes).sort_index()
        returns = frame.pct_change(fill_method=None).iloc[1:]
        enough = [c for c in returns.columns if returns[c].notna().sum() >= 20]
        model.no_history.extend(sorted(set(returns.columns) - set(enough)))
        model.returns = returns[enough].dropna().iloc[-lookback_days:]
        if model.returns.shape[0] < 20:
            model.no_history.extend(enough)
            model.returns = pd.DataFrame()
    if cache:
        _model_cache[key] = (now + _ttl(), version, model)
    return model
