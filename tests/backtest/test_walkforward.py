"""Walk-forward: folds never overlap out of sample, in-sample never sees out-of-sample data,
the chosen params are the in-sample argmax, and the out-of-sample returns stitch exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bifrost.backtest.optimize import BacktestObjective
from bifrost.backtest.walkforward import walk_forward, walk_forward_folds
from bifrost.core.errors import InvalidInput
from tests.factories import xnys_daily_bars

INDEX = pd.date_range("2020-01-01", periods=500, freq="D", tz="UTC")
SIGNAL = pd.Series(np.random.default_rng(4).normal(0.0, 0.01, len(INDEX)), index=INDEX)


class WindowedScaling:
    """Pure-numpy objective: returns = leverage * signal inside [start, end]; records the windows it saw."""

    seen: list[tuple[pd.Timestamp, pd.Timestamp]] = []

    def __init__(self, start, end):
        self.start, self.end = start, end
        WindowedScaling.seen.append((start, end))

    def __call__(self, params):
        window = SIGNAL.loc[self.start:self.end]
        returns = params["leverage"] * window - 0.0001 * params["leverage"] ** 2
        return {"total": float(np.prod(1 + returns) - 1), "returns": returns}


@pytest.mark.parametrize("anchored", [False, True])
def test_folds_never_overlap_out_of_sample_and_train_before_test(anchored):
    folds = walk_forward_folds(INDEX, train_bars=120, test_bars=40, anchored=anchored)
    assert len(folds) == (500 - 120) // 40 == 9
    for fold in folds:
        assert fold.train_last + 1 == fold.test_first and fold.train_end < fold.test_start
        assert fold.test_last - fold.test_first + 1 == 40
        assert fold.train_first == (0 if anchored else 40 * fold.number)
        assert fold.train_last - fold.train_first + 1 == (120 + 40 * fold.number if anchored else 120)
    tests = [set(range(f.test_first, f.test_last + 1)) for f in folds]
    assert all(not (a & b) for i, a in enumerate(tests) for b in tests[i + 1:])
    assert [f.test_first for f in folds[1:]] == [f.test_last + 1 for f in folds[:-1]]  # back to back


def test_bad_windows_are_rejected():
    with pytest.raises(InvalidInput, match=r"step_bars \(10\) must be at least test_bars \(40\)"):
        walk_forward_folds(INDEX, train_bars=100, test_bars=40, step_bars=10)
    with pytest.raises(InvalidInput, match="fewer than train_bars \\+ test_bars = 600"):
        walk_forward_folds(INDEX, train_bars=500, test_bars=100)
    with pytest.raises(InvalidInput, match="train_bars must be a positive integer"):
        walk_forward_folds(INDEX, train_bars=0, test_bars=10)


def test_walk_forward_optimises_in_sample_only_and_stitches_out_of_sample():
    WindowedScaling.seen.clear()
    space = {"leverage": [0.5, 1.0, 2.0, -1.0]}
    calls = []
    result = walk_forward(WindowedScaling, INDEX, space, train_bars=100, test_bars=50, metric="total",
                          progress=lambda d, t: calls.append((d, t)))
    folds = walk_forward_folds(INDEX, train_bars=100, test_bars=50)
    assert len(result.folds) == len(folds) == 8
    # The objective was asked for exactly: each fold's in-sample window, then its out-of-sample window.
    expected_windows = [w for f in folds for w in ((f.train_start, f.train_end), (f.test_start, f.test_end))]
    assert WindowedScaling.seen == expected_windows
    for fold, row in zip(folds, result.folds.itertuples(), strict=True):
        # In-sample choice = argmax of the in-sample total return, computed here directly.
        window = SIGNAL.loc[fold.train_start:fold.train_end]
        totals = {lev: np.prod(1 + lev * window - 0.0001 * lev ** 2) - 1 for lev in space["leverage"]}
        assert row.param_leverage == max(totals, key=totals.get)
        assert row.is_total == pytest.approx(max(totals.values()))
        test = SIGNAL.loc[fold.test_start:fold.test_end]
        assert row.oos_total_return == pytest.approx(np.prod(1 + row.param_leverage * test
                                                             - 0.0001 * row.param_leverage ** 2) - 1)
    assert result.oos_returns.index.equals(INDEX[folds[0].test_first:folds[-1].test_last + 1])
    expected_equity = np.cumprod(1 + result.oos_returns.to_numpy())
    np.testing.assert_allclose(result.oos_equity.to_numpy(), expected_equity, rtol=1e-12)
    assert result.oos_equity.iloc[-1] == pytest.approx(np.prod(1 + result.folds["oos_total_return"]))
    assert calls[-1] == (8 * 5, 8 * 5) and [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_anchored_walk_forward_grows_the_in_sample_window():
    WindowedScaling.seen.clear()
    result = walk_forward(WindowedScaling, INDEX, {"leverage": [1.0, 2.0]}, train_bars=200, test_bars=100,
                          anchored=True, metric="total")
    assert result.folds["train_start"].eq(INDEX[0]).all()
    assert result.folds["train_bars"].tolist() == [200, 300, 400]
    in_sample = WindowedScaling.seen[0::2]
    out_sample = WindowedScaling.seen[1::2]
    assert all(train_end < test_start for (_, train_end), (test_start, _) in zip(in_sample, out_sample, strict=True))


def test_walk_forward_on_the_real_engine_never_feeds_later_bars():
    bars = xnys_daily_bars("2018-01-02", "2021-12-31", seed=21)
    objective = BacktestObjective("sma_crossover", {"ACME": bars}, commission_bps=10, warmup_bars=40,
                                  fixed_params={"quantity": 50})
    seen_ends = []

    def objective_for(start, end):
        windowed = objective.window(start, end)
        seen_ends.append((start, end, windowed._sliced()["ACME"].index.max()))
        return windowed

    result = walk_forward(objective_for, bars.index, {"fast": [5, 10], "slow": [20, 40]}, train_bars=252,
                          test_bars=126, metric="total_return", chunk_size=4)
    assert len(result.folds) == (len(bars) - 252) // 126
    for _start, end, last_bar in seen_ends:
        assert last_bar == end  # the engine got nothing after the window
    # The out-of-sample curve only holds returns of bars inside the test windows, in order.
    tests = result.folds[["test_start", "test_end"]]
    first, last = tests["test_start"].iloc[0], tests["test_end"].iloc[-1]
    assert result.oos_returns.index.min() > first and result.oos_returns.index.max() <= last + pd.Timedelta(days=1)
    assert result.oos_returns.index.is_monotonic_increasing and not result.oos_returns.index.has_duplicates
    assert len(result.oos_returns) == 126 * len(result.folds)
    # The report's total return over each test window is the compounded stitched returns of that window.
    for row in result.folds.itertuples():
        piece = result.oos_returns[(result.oos_returns.index > row.test_start)
                                   & (result.oos_returns.index <= row.test_end + pd.Timedelta(days=1))]
        assert row.oos_total_return == pytest.approx(np.prod(1 + piece.to_numpy()) - 1, rel=1e-9)
    assert result.efficiency() == pytest.approx(result.folds["oos_total_return"].mean()
                                                / result.folds["is_total_return"].mean())
