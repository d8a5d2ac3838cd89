"""Input validation shared by the risk measures (private)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bifrost.core.errors import InvalidInput


def returns_matrix(returns: Any, *, field: str = "returns", min_rows: int = 2) -> np.ndarray:
    """A finite float64 T x N matrix from an array or DataFrame (a 1-D input becomes T x 1)."""
    values = returns.to_numpy(dtype=float) if isinstance(returns, pd.DataFrame | pd.Series) else np.asarray(
        returns, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise InvalidInput(f"{field} must be 1-D or 2-D, had {values.ndim} dimensions")
    if values.shape[0] < min_rows:
        raise InvalidInput(f"{field} needs at least {min_rows} observations, had {values.shape[0]}")
    if values.shape[1] == 0:
        raise InvalidInput(f"{field} has no columns")
    if not np.isfinite(values).all():
        bad = int((~np.isfinite(values)).sum())
        raise InvalidInput(f"{field} must be finite, had {bad} NaN or infinite values (drop or fill them first)")
    return values


def weights_vector(weights: Any, n_assets: int, *, field: str = "weights") -> np.ndarray:
    """Holdings as a float64 vector of length ``n_assets``; ``None`` means a single asset of weight 1."""
    if weights is None:
        if n_assets != 1:
            raise InvalidInput(f"{field} are required for {n_assets} assets")
        return np.ones(1)
    values = weights.to_numpy(dtype=float) if isinstance(weights, pd.Series) else np.asarray(weights, dtype=float)
    values = np.atleast_1d(values)
    if values.ndim != 1 or values.shape[0] != n_assets:
        raise InvalidInput(f"{field} must have one value per asset ({n_assets}), had shape {values.shape}")
    if not np.isfinite(values).all():
        raise InvalidInput(f"{field} must be finite")
    return values


def confidence_level(confidence: float) -> float:
    confidence = float(confidence)
    if not 0.5 <= confidence < 1.0:
        raise InvalidInput(f"confidence must be in [0.5, 1), was {confidence}")
    return confidence


def horizon(horizon_days: int) -> int:
    if isinstance(horizon_days, bool) or int(horizon_days) != horizon_days or horizon_days < 1:
        raise InvalidInput(f"horizon_days must be a positive whole number of trading days, was {horizon_days}")
    return int(horizon_days)


def covariance_matrix(cov: Any, n_assets: int | None = None, *, field: str = "covariance") -> np.ndarray:
    values = cov.to_numpy(dtype=float) if isinstance(cov, pd.DataFrame) else np.asarray(cov, dtype=float)
    values = np.atleast_2d(values)
    if values.ndim != 2 or values.shape[0] != values.shape[1]:
        raise InvalidInput(f"{field} must be a square matrix, had shape {values.shape}")
    if n_assets is not None and values.shape[0] != n_assets:
        raise InvalidInput(f"{field} must be {n_assets} x {n_assets}, had shape {values.shape}")
    if not np.isfinite(values).all():
        raise InvalidInput(f"{field} must be finite")
    if not np.allclose(values, values.T, rtol=1e-8, atol=1e-12):
        raise InvalidInput(f"{field} must be symmetric")
    return values
