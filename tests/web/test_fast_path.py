"""The what-if endpoint's fast path (``bifrost_web.api.fast``) answers exactly what DRF answers.

Every body is sent twice, once with the fast path on and once with it off (DRF's request
handling, the input serializer and the project's exception handler): status, bytes and headers
must be identical. Plainly valid bodies must not reach DRF's handler; anything else must."""

from __future__ import annotations

import pytest

from bifrost_web.risk import api as risk_api
from bifrost_web.risk import market, services
from tests.risk.webdata import client_for, funded_portfolio, ingest_instruments

pytestmark = pytest.mark.django_db

FAST = [
    {"symbol": "AAA", "side": "buy", "quantity": "10"},
    {"symbol": "BBB", "side": "sell", "quantity": 25},
    {"symbol": "DDD", "side": "buy", "quantity": "3.5", "limit_price": "41.25"},
    {"symbol": "ZZZZ", "side": "buy", "quantity": "1"},  # valid body, symbol without bars: the service decides
]
THROUGH_DRF = [
    {"symbol": "AAA", "side": "buy"},  # missing quantity
    {"symbol": "AAA", "side": "hold", "quantity": "1"},
    {"symbol": "AAA", "side": "buy", "quantity": "-5"},
    {"symbol": "AAA", "side": "buy", "quantity": "ten"},
    {"symbol": "AAA", "side": "buy", "quantity": 1.5},  # a JSON float: DRF's own rules
    {"symbol": " AAA ", "side": "buy", "quantity": "1"},  # DRF trims
    {"symbol": "AAA", "side": "buy", "quantity": "1", "note": "extra keys are ignored by DRF"},
    {"symbol": "AAA", "side": "buy", "quantity": "1.1234567"},  # more places than the field keeps
    ["not", "an", "object"],
]


@pytest.fixture
def setup(alice, bob):
    market.clear_cache()
    ingest_instruments()
    book = funded_portfolio(alice, "main", buys={"AAA": "300", "BBB": "400"})
    services.limit_upsert(user=alice, portfolio_id=book.pk, kind="position_weight", soft="0.01", hard="0.9")
    services.limit_upsert(user=alice, portfolio_id=book.pk, kind="sector_weight", soft="0.2", hard="0.95")
    foreign = funded_portfolio(bob, "bobs")
    yield book, foreign
    market.clear_cache()


def _both(monkeypatch, client, url, body, content_type="application/json"):
    """(answer with the fast path, answer without it, whether DRF's handler ran on the fast try)."""
    calls = []
    original = risk_api.CheckApi.post
    monkeypatch.setattr(risk_api.CheckApi, "post", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    fast = client.post(url, body, format="json") if content_type == "application/json" else \
        client.post(url, body, content_type=content_type)
    reached_drf = bool(calls)
    monkeypatch.setattr(risk_api.CheckApi, "fast_path", False)
    slow = client.post(url, body, format="json") if content_type == "application/json" else \
        client.post(url, body, content_type=content_type)
    monkeypatch.setattr(risk_api.CheckApi, "fast_path", True)
    return fast, slow, reached_drf


def _same(fast, slow) -> None:
    assert (fast.status_code, fast.content) == (slow.status_code, slow.content)
    for header in ("Content-Type", "Allow", "Vary"):
        assert fast.get(header) == slow.get(header), header


@pytest.mark.parametrize("body", FAST)
def test_plain_bodies_take_the_fast_path_and_answer_like_drf(setup, alice, monkeypatch, body):
    book, _ = setup
    fast, slow, reached_drf = _both(monkeypatch, client_for(alice), f"/api/v1/portfolios/{book.pk}/risk/check/", body)
    _same(fast, slow)
    assert fast.status_code == 200 and not reached_drf
    assert fast.json()["decision"] in ("accept", "warn", "reject")


@pytest.mark.parametrize("body", THROUGH_DRF)
def test_other_bodies_go_through_drf(setup, alice, monkeypatch, body):
    book, _ = setup
    fast, slow, reached_drf = _both(monkeypatch, client_for(alice), f"/api/v1/portfolios/{book.pk}/risk/check/", body)
    _same(fast, slow)
    assert reached_drf


def test_errors_of_a_plain_body_come_from_drf(setup, alice, monkeypatch):
    _, foreign = setup
    body = {"symbol": "AAA", "side": "buy", "quantity": "1"}
    for url in (f"/api/v1/portfolios/{foreign.pk}/risk/check/", "/api/v1/portfolios/999999/risk/check/"):
        fast, slow, reached_drf = _both(monkeypatch, client_for(alice), url, body)
        _same(fast, slow)
        assert fast.status_code == 404 and reached_drf


def test_wrong_token_session_and_browsable_api_go_through_drf(setup, alice, monkeypatch):
    from rest_framework.test import APIClient

    book, _ = setup
    url = f"/api/v1/portfolios/{book.pk}/risk/check/"
    body = {"symbol": "AAA", "side": "buy", "quantity": "1"}
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    fast, slow, reached_drf = _both(monkeypatch, wrong, url, body)
    _same(fast, slow)
    assert fast.status_code == 401  # refused by DRF's authentication, before any handler
    session = APIClient()
    session.force_login(alice)
    fast, slow, reached_drf = _both(monkeypatch, session, url, body)
    assert fast.status_code == slow.status_code == 200 and reached_drf
    browser = client_for(alice)
    browser.credentials(HTTP_AUTHORIZATION=browser._credentials["HTTP_AUTHORIZATION"], HTTP_ACCEPT="text/html")
    fast, slow, reached_drf = _both(monkeypatch, browser, url, body)
    assert fast.status_code == 200 and fast["Content-Type"].startswith("text/html") and reached_drf
