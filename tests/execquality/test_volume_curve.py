"""Intraday volume curves from a symbol's own history."""

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from bifrost.core.errors import InvalidInput
from bifrost.execquality.volume_curve import VolumeCurve


def test_curve_from_real_amzn_executions_matches_independent_groupby(lobster):
    bars = lobster["bars"]
    curve = VolumeCurve.from_bars(bars, bucket_minutes=30)
    local = bars["ts"].dt.tz_convert("America/New_York")
    minutes = (local.dt.hour * 60 + local.dt.minute) - (9 * 60 + 30)
    expected = bars.groupby(minutes // 30)["volume"].sum()
    expected = expected / expected.sum()
    np.testing.assert_allclose(curve.fractions[:13], expected.to_numpy(), rtol=1e-12)
    assert curve.fractions.sum() == pytest.approx(1.0) and curve.sessions == 1
    # AMZN traded more in the first half hour than around midday (the U shape)
    assert curve.fractions[0] > curve.fractions[6]


def test_fraction_between_interpolates_within_buckets():
    curve = VolumeCurve(30, np.array([2.0, 1.0] + [1.0] * 11), 1)
    start = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)
    end = datetime(2024, 3, 4, 15, 30, tzinfo=UTC)
    at = datetime(2024, 3, 4, 14, 45, tzinfo=UTC)
    assert curve.fraction_between(start, end, at) == pytest.approx(1.0 / 3.0)


def test_curve_needs_session_bars():
    night = pd.DataFrame({"ts": [pd.Timestamp("2024-03-04 03:00Z")], "symbol": "X", "open": [1.0], "high": [1.0],
                          "low": [1.0], "close": [1.0], "volume": [1.0]})
    with pytest.raises(InvalidInput, match="inside a trading session"):
        VolumeCurve.from_bars(night)
