from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from bifrost_web.marketdata import models, selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    series = selectors.series_summaries()
    context = {
        "instrument_count": models.Instrument.objects.count(),
        "bar_count": sum(s.bars for s in series),
        "series": series[:20],
        "runs": models.IngestRun.objects.all()[:10],
    }
    return render(request, "portal/home.html", context)
