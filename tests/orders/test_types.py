"""OrderRequest's per-sale lot override (lot_method / lot_ids): validated on construction."""

from __future__ import annotations

import pytest

from bifrost.core.errors import InvalidInput
from bifrost.orders import OrderRequest
from bifrost.portfolio import LotMethod


def _sale(**override) -> OrderRequest:
    return OrderRequest(client_order_id="s1", symbol="ACME", side="sell", quantity="10", **override)


def test_order_request_lot_override_is_normalised():
    request = _sale(lot_method="hifo")
    named = _sale(lot_ids=["f-2", "f-1"])
    assert request.lot_method is LotMethod.HIFO and request.lot_ids == ()
    assert named.lot_ids == ("f-2", "f-1") and named.lot_method is None
    assert _sale(lot_ids=[]) == _sale()  # an empty list from a schema is no override


@pytest.mark.parametrize(("override", "message"), [
    ({"lot_method": "tax_optimal"}, "lot_method must be one of fifo, lifo, hifo, specific, was 'tax_optimal'"),
    ({"lot_method": "specific"}, "lot_method specific needs lot_ids"),
    ({"lot_method": "lifo", "lot_ids": ["f-1"]}, "lot_ids apply to specific identification, not lot_method lifo"),
    ({"lot_ids": ["f-1", "f-1"]}, r"lot_ids must name each lot once, was \['f-1', 'f-1'\]"),
    ({"lot_ids": [""]}, "lot_ids must be lot ids of 1-64 characters, was ''"),
])
def test_order_request_bad_lot_override_is_invalid(override, message):
    with pytest.raises(InvalidInput, match=message):
        _sale(**override)
