"""Portal pages: backtests with a run form, the interactive tear sheet, compare, and sweeps."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from bifrost.core.errors import BifrostError, InvalidInput, NotFoundError
from bifrost_web.backtests import models, reports, selectors, services

_METRIC_ROWS = [
    ("total_return", "Total return", "pct"), ("cagr", "CAGR", "pct"),
    ("annualised_volatility", "Volatility (ann.)", "pct"), ("sharpe_ratio", "Sharpe", "num"),
    ("sortino_ratio", "Sortino", "num"), ("calmar_ratio", "Calmar", "num"), ("max_drawdown", "Max drawdown", "pct"),
    ("n_trades", "Trades", "int"), ("win_rate", "Win rate", "pct"), ("profit_factor", "Profit factor", "num"),
    ("expectancy", "Expectancy / trade", "money"), ("exposure", "Exposure", "pct"),
    ("turnover", "Turnover (ann.)", "num"), ("fees_paid", "Fees paid", "money"),
    ("final_equity", "Final equity", "money"), ("alpha", "Alpha (ann.)", "pct"), ("beta", "Beta", "num"),
    ("information_ratio", "Information ratio", "num"),
]


def _fmt(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "pct":
        return f"{value:.2%}"
    if kind == "int":
        return f"{int(value)}"
    if kind == "money":
        return f"{value:,.2f}"
    return f"{value:.3f}"


def metric_rows(metrics: dict) -> list[dict]:
    rows = [{"key": k, "label": label, "value": _fmt(metrics.get(k), kind)} for k, label, kind in _METRIC_ROWS
            if k in metrics]
    episode = metrics.get("max_drawdown_episode")
    if isinstance(episode, dict) and episode.get("duration_periods") is not None:
        rows.append({"key": "max_drawdown_duration", "label": "Max drawdown duration",
                     "value": f"{episode['duration_periods']} bars" + (" (ongoing)" if episode.get("ongoing") else "")})
    return rows


def _strategies() -> list[dict]:
    import bifrost.backtest  # noqa: F401
    from bifrost.backtest.strategy import STRATEGIES

    return [{"name": n, "params": json.dumps(c.param_defaults())} for n, c in sorted(STRATEGIES.items())]


def _params(text: str) -> dict:
    text = (text or "").strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"params must be JSON or key=value pairs: {exc}") from None
        if not isinstance(value, dict):
            raise InvalidInput("params JSON must be an object")
        return value
    out = {}
    for part in text.replace(",", " ").split():
        if "=" not in part:
            raise InvalidInput(f"params: {part!r} is not key=value")
        key, value = part.split("=", 1)
        out[key.strip()] = value.strip()
    return out


@login_required
def backtest_list(request: HttpRequest) -> HttpResponse:
    form = request.POST if request.method == "POST" else None
    if form is not None:
        try:
            backtest = services.backtest_submit(
                user=request.user, strategy=form.get("strategy", ""), symbols=form.get("symbols", ""),
                timeframe=form.get("timeframe", "1d"), start=form.get("start") or None, end=form.get("end") or None,
                params=_params(form.get("params", "")), cash=form.get("cash") or "100000",
                commission_bps=form.get("commission_bps") or None, benchmark=form.get("benchmark") or None,
                name=form.get("name", ""))
            messages.success(request, f"Backtest #{backtest.pk} queued.")
            return redirect("portal:backtest-detail", backtest_id=backtest.pk)
        except BifrostError as exc:
            messages.error(request, exc.message)
    backtests = list(selectors.backtests_for(user=request.user)[:200])
    for b in backtests:
        m = b.metrics or {}
        b.display = {"total_return": _fmt(m.get("total_return"), "pct"), "sharpe": _fmt(m.get("sharpe_ratio"), "num"),
                     "max_drawdown": _fmt(m.get("max_drawdown"), "pct"), "trades": _fmt(m.get("n_trades"), "int")}
    return render(request, "backtests/list.html", {"backtests": backtests, "strategies": _strategies(),
                                                   "form": form or {}})


def _backtest(request: HttpRequest, backtest_id: int) -> models.Backtest:
    try:
        return selectors.backtest_get(user=request.user, backtest_id=backtest_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc


@login_required
def backtest_detail(request: HttpRequest, backtest_id: int) -> HttpResponse:
    backtest = _backtest(request, backtest_id)
    context: dict = {"backtest": backtest, "metrics": metric_rows(backtest.metrics or {})}
    if backtest.status == models.RunStatus.DONE:
        record = selectors.record_of(backtest)
        symbol = request.GET.get("symbol")
        context["figures"] = reports.tearsheet_figures(record, symbol=symbol)
        context["symbols"] = list(record.prices.columns) if record.prices is not None else []
        context["trades"] = record.trades().head(500).to_dict("records")
        context["orders"] = selectors.backtest_orders(backtest=backtest).head(500).to_dict("records")
    return render(request, "backtests/detail.html", context)


@login_required
def backtest_status(request: HttpRequest, backtest_id: int) -> JsonResponse:
    backtest = _backtest(request, backtest_id)
    return JsonResponse({"id": backtest.pk, "status": backtest.status, "progress": backtest.progress,
                         "error": backtest.error})


@login_required
def backtest_export(request: HttpRequest, backtest_id: int) -> HttpResponse:
    backtest = _backtest(request, backtest_id)
    if backtest.status != models.RunStatus.DONE:
        raise Http404(f"backtest {backtest.pk} is {backtest.status}")
    document = reports.tearsheet_document(selectors.record_of(backtest),
                                          title=f"{backtest.name or backtest.strategy} (#{backtest.pk})")
    response = HttpResponse(document, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="backtest-{backtest.pk}-tearsheet.html"'
    return response


@login_required
def backtest_compare(request: HttpRequest) -> HttpResponse:
    ids = request.GET.getlist("ids") or [i for i in request.GET.get("id_list", "").split(",") if i]
    context: dict = {"ids": ids}
    try:
        comparison = services.backtest_compare(user=request.user, ids=ids)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect("portal:backtests")
    columns = comparison["backtests"]
    context["columns"] = columns
    context["rows"] = [{"label": label, "values": [_fmt((c["metrics"] or {}).get(key), kind) for c in columns]}
                       for key, label, kind in _METRIC_ROWS]
    context["curves"] = comparison["equity"]
    return render(request, "backtests/compare.html", context)


@login_required
def sweep_list(request: HttpRequest) -> HttpResponse:
    form = request.POST if request.method == "POST" else None
    if form is not None:
        try:
            try:
                space_spec = json.loads(form.get("space") or "{}")
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"space must be JSON, e.g. {{\"fast\": [5, 10]}}: {exc}") from None
            n_trials = form.get("n_trials")
            sweep = services.sweep_submit(
                user=request.user, strategy=form.get("strategy", ""), method=form.get("method", "grid"),
                space_spec=space_spec, symbols=form.get("symbols", ""), timeframe=form.get("timeframe", "1d"),
                start=form.get("start") or None, end=form.get("end") or None,
                n_trials=int(n_trials) if n_trials and n_trials.isdigit() else None,
                objective=form.get("objective") or "sharpe_ratio", seed=int(form.get("seed") or 0),
                chunk_size=int(form.get("chunk_size") or 8), cash=form.get("cash") or "100000",
                commission_bps=form.get("commission_bps") or None, name=form.get("name", ""))
            messages.success(request, f"Sweep #{sweep.pk} started.")
            return redirect("portal:sweep-detail", sweep_id=sweep.pk)
        except BifrostError as exc:
            messages.error(request, exc.message)
    return render(request, "backtests/sweeps.html", {"sweeps": selectors.sweeps_for(user=request.user)[:200],
                                                     "strategies": _strategies(), "form": form or {}})


def _sweep(request: HttpRequest, sweep_id: int) -> models.Sweep:
    try:
        return selectors.sweep_get(user=request.user, sweep_id=sweep_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc


@login_required
def sweep_detail(request: HttpRequest, sweep_id: int) -> HttpResponse:
    sweep = _sweep(request, sweep_id)
    trials = selectors.sweep_trials(sweep=sweep)
    params = list(sweep.space)
    heatmap = reports.sweep_heatmap(trials, params) if len(trials) else None
    ordered = trials.sort_values("value", ascending=not sweep.maximize, na_position="last") if len(trials) else trials
    rows = [{"number": r["number"], "status": r["status"], "value": r["value"],
             "params": [r.get(p) for p in params], "sharpe": r.get("sharpe_ratio"), "ret": r.get("total_return"),
             "dd": r.get("max_drawdown"), "trades": r.get("n_trades"), "error": r.get("error")}
            for r in ordered.head(500).to_dict("records")]
    return render(request, "backtests/sweep.html", {"sweep": sweep, "params": params, "rows": rows,
                                                    "heatmap": heatmap})


@login_required
def sweep_progress(request: HttpRequest, sweep_id: int) -> JsonResponse:
    sweep = _sweep(request, sweep_id)
    return JsonResponse({"id": sweep.pk, "status": sweep.status, "trials_done": sweep.trials_done,
                         "n_trials": sweep.n_trials, "progress": sweep.progress, "best_value": sweep.best_value,
                         "best_params": sweep.best_params, "error": sweep.error})
