"""Plotly figures for the risk dashboard and report: a clustered correlation heatmap, VaR
contributions, limit usage and drawdown."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from bifrost.core.errors import InvalidInput
from bifrost.risk.correlation import clustered_order

__all__ = ["contribution_figure", "correlation_heatmap", "drawdown_figure", "limit_usage_figure"]

_LAYOUT = {"template": "plotly_white", "margin": {"l": 80, "r": 20, "t": 50, "b": 60}, "height": 420}


def correlation_heatmap(correlation: pd.DataFrame, *, title: str = "Correlation (clustered)") -> go.Figure:
    """Heatmap of a correlation matrix with rows and columns in hierarchical-clustering order."""
    if not isinstance(correlation, pd.DataFrame):
        raise InvalidInput("correlation_heatmap needs a labelled correlation DataFrame")
    order = clustered_order(correlation.to_numpy())
    ordered = correlation.iloc[order, order]
    labels = [str(c) for c in ordered.columns]
    figure = go.Figure(go.Heatmap(z=np.round(ordered.to_numpy(), 3).tolist(), x=labels, y=labels, zmin=-1, zmax=1,
                                  colorscale="RdBu", reversescale=True, colorbar={"title": "rho"}))
    figure.update_layout(title=title, yaxis={"autorange": "reversed"}, **_LAYOUT)
    return figure


def contribution_figure(rows: Sequence[Mapping[str, Any]], *, title: str = "Component VaR") -> go.Figure:
    """Horizontal bars of component VaR by position (rows from ``VarDecomposition.as_rows``)."""
    ordered = sorted(rows, key=lambda r: r["component"])
    figure = go.Figure(go.Bar(x=[float(r["component"]) for r in ordered], y=[str(r["name"]) for r in ordered],
                              orientation="h", name="component VaR"))
    figure.update_layout(title=title, **_LAYOUT)
    return figure


def limit_usage_figure(usage: Sequence[Mapping[str, Any]], *, title: str = "Limit usage") -> go.Figure:
    """Bars of each limit's usage as a fraction of its hard level (1.0 = at the cap)."""
    names = [str(u["name"]) for u in usage]
    values = [float(u["usage"]) for u in usage]
    colours = ["#c0392b" if v > 1 else "#e67e22" if u.get("soft_breached") else "#27ae60"
               for v, u in zip(values, usage, strict=True)]
    figure = go.Figure(go.Bar(x=values, y=names, orientation="h", marker={"color": colours}))
    figure.add_vline(x=1.0, line_dash="dash")
    figure.update_layout(title=title, xaxis={"tickformat": ".0%"}, **_LAYOUT)
    return figure


def drawdown_figure(drawdown: pd.Series, *, title: str = "Drawdown") -> go.Figure:
    """Underwater curve of a drawdown series (zero or negative fractions)."""
    x = [str(i.date()) if hasattr(i, "date") else str(i) for i in drawdown.index]
    figure = go.Figure(go.Scatter(x=x, y=[float(v) for v in drawdown], fill="tozeroy", mode="lines"))
    figure.update_layout(title=title, yaxis={"tickformat": ".0%"}, **_LAYOUT)
    return figure
