"""REST API: token auth, consistent error bodies, bars, uploads."""

import io

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from bifrost.marketdata.types import Timeframe
from bifrost_web.marketdata import models, services, storage

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return get_user_model().objects.create_user("alice", password="s3cret-pass")


@pytest.fixture
def staff():
    return get_user_model().objects.create_user("root", password="s3cret-pass", is_staff=True)


def client_for(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_token_endpoint_issues_token_for_valid_credentials(user):
    response = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": "s3cret-pass"})
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=user).key


def test_token_endpoint_wrong_password_is_400_with_error_body(user):
    response = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": "nope"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_input" and "Unable to log in" in body["message"]


def test_wrong_token_is_401_with_error_body():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")
    response = client.get("/api/v1/instruments/")
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid token.", "code": "authentication_failed", "details": {}}


def test_missing_credentials_is_401():
    response = APIClient().get("/api/v1/instruments/")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_bars_endpoint_returns_stored_values(user, daily_bars):
    services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test")
    response = client_for(user).get("/api/v1/instruments/ACME/bars/", {"timeframe": "1d", "limit": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["ts"] == [ts.isoformat() for ts in daily_bars.index[-3:]]
    assert body["close"] == daily_bars["close"].iloc[-3:].tolist()


def test_bars_endpoint_unknown_symbol_is_404(user):
    response = client_for(user).get("/api/v1/instruments/NOPE/bars/")
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_symbol" and "NOPE" in response.json()["message"]


def test_bars_endpoint_bad_timeframe_is_400(user, daily_bars):
    services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test")
    response = client_for(user).get("/api/v1/instruments/ACME/bars/", {"timeframe": "2d"})
    assert response.status_code == 400 and "timeframe" in response.json()["message"]


def test_bars_endpoint_inverted_range_is_400(user, daily_bars):
    services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test")
    response = client_for(user).get("/api/v1/instruments/ACME/bars/",
                                    {"start": "2024-03-01T00:00:00Z", "end": "2024-01-01T00:00:00Z"})
    assert response.status_code == 400
    assert "must be before end" in response.json()["message"]


def test_instrument_detail_lists_series(user, daily_bars):
    services.bars_ingest(symbol="ACME", timeframe="1d", bars=daily_bars, source="test")
    body = client_for(user).get("/api/v1/instruments/ACME/").json()
    assert body["symbol"] == "ACME"
    assert body["series"][0]["timeframe"] == "1d" and body["series"][0]["bars"] == 61


def _csv_upload(daily_bars, name="bars.csv") -> io.BytesIO:
    frame = daily_bars.reset_index()
    frame["ts"] = frame["ts"].map(lambda t: t.isoformat())
    data = io.BytesIO(frame.to_csv(index=False).encode())
    data.name = name
    return data


def test_import_upload_by_staff_stores_bars(staff, daily_bars):
    response = client_for(staff).post("/api/v1/marketdata/import/",
                                      {"file": _csv_upload(daily_bars), "symbol": "UPL"}, format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()[0]["rows"] == 61
    assert len(storage.read_bars(models.Instrument.objects.get(symbol="UPL").id, Timeframe.D1)) == 61


def test_import_upload_by_non_staff_is_403(user, daily_bars):
    response = client_for(user).post("/api/v1/marketdata/import/",
                                     {"file": _csv_upload(daily_bars), "symbol": "UPL"}, format="multipart")
    assert response.status_code == 403
    assert not models.Instrument.objects.filter(symbol="UPL").exists()


def test_import_upload_bad_bars_is_422_and_writes_nothing(staff, daily_bars):
    bad = daily_bars.copy()
    bad.loc[bad.index[2], "low"] = -1.0
    response = client_for(staff).post("/api/v1/marketdata/import/",
                                      {"file": _csv_upload(bad), "symbol": "UPL"}, format="multipart")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "data_quality" and "UPL" in body["message"] and "non_positive_price" in body["message"]
    assert body["details"]["violation_count"] >= 1
    assert not models.Instrument.objects.filter(symbol="UPL").exists()


def test_import_upload_wrong_extension_is_400(staff):
    data = io.BytesIO(b"hello")
    data.name = "notes.txt"
    response = client_for(staff).post("/api/v1/marketdata/import/", {"file": data}, format="multipart")
    assert response.status_code == 400 and "notes.txt" in response.json()["message"]


def test_refresh_by_non_staff_is_403(user):
    response = client_for(user).post("/api/v1/marketdata/refresh/", {"symbol": "AAPL", "start": "2024-01-01T00:00:00Z",
                                                                      "end": "2024-02-01T00:00:00Z"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_refresh_inverted_range_is_400(staff):
    response = client_for(staff).post("/api/v1/marketdata/refresh/", {"symbol": "AAPL", "start": "2024-03-01T00:00:00Z",
                                                                       "end": "2024-02-01T00:00:00Z"}, format="json")
    assert response.status_code == 400 and "must be before end" in response.json()["message"]


def test_openapi_schema_lists_market_data_endpoints():
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/instruments/{symbol}/bars/" in paths and "/api/v1/marketdata/import/" in paths


def test_docs_page_served_without_cdn():
    response = APIClient().get("/api/docs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "swagger-ui" in html and "cdn.jsdelivr" not in html and "unpkg.com" not in html
