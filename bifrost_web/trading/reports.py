"""Positions, lots and valuation as plain dicts for the API, the portal and the CLI."""

from __future__ import annotations

from decimal import Decimal

from bifrost.core.money import quantize_money
from bifrost.portfolio import mark_to_market
from bifrost_web.trading import models, services


def _num(value: Decimal | None) -> str | None:
    """Exact decimal text without trailing zeros (``10``, ``50.25``)."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text


def _money(value: Decimal | None, currency: str) -> str | None:
    return None if value is None else str(quantize_money(value, currency))


def _last_prices(symbols) -> dict[str, Decimal]:
    prices = {}
    for symbol in symbols:
        price = services._last_price(symbol)
        if price is not None:
            prices[symbol] = price
    return prices


def positions_report(portfolio: models.Portfolio) -> dict:
    ledger = services.ledger_for(portfolio)
    positions = {s: p for s, p in ledger.positions().items() if p.quantity}
    prices = _last_prices(positions)
    ccy = portfolio.base_currency
    rows = []
    for symbol, position in sorted(positions.items()):
        price = prices.get(symbol)
        value = position.quantity * price if price is not None else None
        unrealised = value - position.cost if value is not None else None
        rows.append({"symbol": symbol, "quantity": _num(position.quantity), "average_cost": _num(position.average_cost),
                     "cost": _money(position.cost, ccy), "last_price": _num(price),
                     "market_value": _money(value, ccy), "unrealised_pnl": _money(unrealised, ccy)})
    valuation = mark_to_market(ledger, prices, currency=portfolio.base_currency) if len(prices) == len(positions) \
        else None
    realised = sum((g.gain for g in ledger.realised_gains()), Decimal(0))
    return {
        "portfolio": portfolio.pk, "currency": ccy, "cash": _money(ledger.cash(ccy), ccy),
        "positions": rows, "realised_pnl": _money(realised, ccy),
        "nav": _money(valuation.nav, ccy) if valuation else None,
        "gross_exposure": _money(valuation.gross_exposure, ccy) if valuation else None,
        "net_exposure": _money(valuation.net_exposure, ccy) if valuation else None,
    }


def lots_report(portfolio: models.Portfolio) -> dict:
    ledger = services.ledger_for(portfolio)
    lots = []
    for symbol in sorted(ledger.positions()):
        for lot in ledger.open_lots(symbol):
            lots.append({"lot_id": lot.lot_id, "symbol": symbol, "acquired": lot.acquired.isoformat(),
                         "quantity": _num(lot.quantity), "basis": _num(lot.basis),
                         "basis_adjustment": str(lot.basis_adjustment), "short": lot.short})
    gains = [{"lot_id": g.lot_id, "quantity": _num(g.quantity), "proceeds": _num(g.proceeds), "basis": _num(g.basis),
              "gain": _num(g.gain), "acquired": g.acquired.isoformat(), "disposed": g.disposed.isoformat(),
              "long_term": g.long_term} for g in ledger.realised_gains()]
    return {"portfolio": portfolio.pk, "lots": lots, "realised": gains}
