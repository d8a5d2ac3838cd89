"""``bifrost serve`` end to end on the embedded default (SQLite, a scratch data folder): the
portal login with its CSRF and session cookies, API tokens, and order entry, all through the
served ASGI application (uvicorn and the HTTP adapter), not Django's test client."""

import os
import re
import time

import pytest
import requests

from tests.web.conftest import served


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    data = tmp_path_factory.mktemp("serve")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(BIFROST_DATA_DIR=str(data), BIFROST_PROVIDER="none", PYTHONUNBUFFERED="1", BIFROST_LOG_LEVEL="WARNING")
    with served("--demo", env=env, log_path=data / "serve.log") as port:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:  # listening comes before the first answer
            try:
                requests.get(f"{base}/accounts/login/", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        yield base


def test_portal_login_sets_cookies_and_opens_the_portal(base_url):
    browser = requests.Session()
    form = browser.get(f"{base_url}/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    without_csrf = requests.post(f"{base_url}/accounts/login/", data={"username": "demo", "password": "demo"})
    logged_in = browser.post(f"{base_url}/accounts/login/", headers={"Referer": f"{base_url}/accounts/login/"},
                             data={"username": "demo", "password": "demo", "csrfmiddlewaretoken": token})

    assert form.status_code == 200 and "csrftoken" in browser.cookies
    assert without_csrf.status_code == 403
    assert logged_in.status_code == 200 and logged_in.url == f"{base_url}/" and "sessionid" in browser.cookies
    assert browser.get(f"{base_url}/market/").status_code == 200


def test_api_token_and_order_entry_through_the_server(base_url):
    key = requests.post(f"{base_url}/api/v1/auth/token/", json={"username": "demo", "password": "demo"}).json()["token"]
    api = requests.Session()
    api.headers["Authorization"] = f"Token {key}"
    portfolio = api.post(f"{base_url}/api/v1/portfolios/", json={"name": "served"}).json()
    api.post(f"{base_url}/api/v1/portfolios/{portfolio['id']}/cash-flows/", json={"kind": "deposit", "amount": "10000"})
    body = {"client_order_id": "served-1", "symbol": "SYN000", "side": "buy", "quantity": "3", "order_type": "limit",
            "limit_price": "1.00", "time_in_force": "gtc"}
    first = api.post(f"{base_url}/api/v1/portfolios/{portfolio['id']}/orders/", json=body)
    again = api.post(f"{base_url}/api/v1/portfolios/{portfolio['id']}/orders/", json=body)
    wrong = requests.get(f"{base_url}/api/v1/portfolios/", headers={"Authorization": "Token " + "0" * 40})
    unknown = api.post(f"{base_url}/api/v1/portfolios/{portfolio['id']}/orders/",
                       json={**body, "client_order_id": "served-2", "symbol": "NOPE"})

    assert first.status_code == 201, first.text
    assert (first.json()["status"], first.json()["quantity"], first.json()["limit_price"]) == (
        "accepted", "3.000000", "1.000000")
    assert [e["kind"] for e in first.json()["events"]] == ["submitted", "accepted"]
    assert again.status_code == 200 and again.json()["client_order_id"] == "served-1"
    assert wrong.status_code == 401 and wrong.json()["code"] == "authentication_failed"
    assert unknown.status_code == 422 and "NOPE" in unknown.json()["message"]
