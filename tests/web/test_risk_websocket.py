"""Live alert delivery over websockets, against the real ASGI application (no mocks).

The in-process tests drive ``bifrost_web.config.asgi.application`` with Channels'
``WebsocketCommunicator`` on the configured channel layer (in-memory in the embedded pass,
Redis in the service pass). The last test starts ``bifrost serve`` (uvicorn) as a real server
process on 127.0.0.1 and connects with a real websocket client, the alert being raised in this
process and crossing Redis to the server, as from a Celery worker.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.request

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework.authtoken.models import Token

from bifrost_web.compliance import services as compliance_services
from bifrost_web.config.asgi import application
from bifrost_web.risk import consumers, models, services
from bifrost_web.trading import services as trading_services
from tests.web.conftest import served

pytestmark = pytest.mark.django_db(transaction=True)  # the consumer reads the session from its own thread

URL = "/ws/risk/alerts/"
ORIGIN = (b"origin", b"http://testserver")


def _cookie_header(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()


def _raise(owner, key: str = "p:leverage:soft", **kwargs) -> models.RiskAlert:
    alert, _ = services.alert_raise(owner=owner, rule=kwargs.pop("rule", "leverage"), severity="warning",
                                    message=kwargs.pop("message", "portfolio main: leverage at 1.9, soft level 1.5"),
                                    dedup_key=key, numbers={"value": 1.9, "soft": 1.5}, **kwargs)
    return alert


async def _connect(*headers) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, URL, headers=[ORIGIN, *headers])
    connected, _ = await communicator.connect()
    assert connected
    return communicator


def test_socket_anonymous_is_closed_with_4401():
    async def scenario():
        communicator = await _connect()
        closed = await communicator.receive_output(timeout=5)
        await communicator.wait()
        return closed

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": consumers.CLOSE_UNAUTHENTICATED}


def test_socket_foreign_origin_is_refused_before_the_handshake(alice):
    cookie = _cookie_header(alice)

    async def scenario():
        communicator = WebsocketCommunicator(application, URL, headers=[(b"origin", b"https://evil.example"), cookie])
        connected, _ = await communicator.connect()
        await communicator.disconnect()
        return connected

    assert async_to_sync(scenario)() is False


def test_socket_pushes_raise_bump_and_ack_to_the_owner_only(alice, bob):
    alice_cookie, bob_cookie = _cookie_header(alice), _cookie_header(bob)

    async def scenario():
        from channels.db import database_sync_to_async

        alice_socket, bob_socket = await _connect(alice_cookie), await _connect(bob_cookie)
        ready = [await alice_socket.receive_json_from(timeout=5), await bob_socket.receive_json_from(timeout=5)]
        alert = await database_sync_to_async(_raise)(alice)
        raised = await alice_socket.receive_json_from(timeout=5)
        await database_sync_to_async(_raise)(alice, message="portfolio main: leverage at 1.95, soft level 1.5")
        bumped = await alice_socket.receive_json_from(timeout=5)
        await database_sync_to_async(services.alert_acknowledge)(user=alice, alert_id=alert.pk)
        acked = await alice_socket.receive_json_from(timeout=5)
        bob_heard_nothing = await bob_socket.receive_nothing(timeout=0.3)
        await database_sync_to_async(_raise)(bob, key="p:var:hard")
        bobs_own = await bob_socket.receive_json_from(timeout=5)
        alice_heard_nothing = await alice_socket.receive_nothing(timeout=0.3)
        await alice_socket.disconnect()
        await bob_socket.disconnect()
        return ready, alert.pk, raised, bumped, acked, bob_heard_nothing, bobs_own, alice_heard_nothing

    ready, alert_id, raised, bumped, acked, bob_quiet, bobs_own, alice_quiet = async_to_sync(scenario)()
    assert ready == [{"event": "ready", "user": "alice"}, {"event": "ready", "user": "bob"}]
    assert raised["event"] == "raised"
    assert {k: raised["alert"][k] for k in ("id", "rule", "severity", "occurrences", "acknowledged", "portfolio")} == \
        {"id": alert_id, "rule": "leverage", "severity": "warning", "occurrences": 1, "acknowledged": False,
         "portfolio": None}
    assert raised["alert"]["numbers"] == {"value": 1.9, "soft": 1.5}
    assert (bumped["event"], bumped["alert"]["id"], bumped["alert"]["occurrences"]) == ("bumped", alert_id, 2)
    assert bumped["alert"]["message"] == "portfolio main: leverage at 1.95, soft level 1.5"
    assert (acked["event"], acked["alert"]["id"], acked["alert"]["acknowledged"]) == ("acknowledged", alert_id, True)
    assert bob_quiet and alice_quiet
    assert (bobs_own["event"], bobs_own["alert"]["rule"]) == ("raised", "leverage")
    assert models.RiskAlert.objects.get(pk=bobs_own["alert"]["id"]).owner == bob


def test_socket_pushes_compliance_alerts_with_their_portfolio(alice):
    portfolio = trading_services.portfolio_create(owner=alice, name="taxable")
    cookie = _cookie_header(alice)

    async def scenario():
        from channels.db import database_sync_to_async

        socket_ = await _connect(cookie)
        await socket_.receive_json_from(timeout=5)  # ready
        await database_sync_to_async(compliance_services.alert_raise)(
            owner=alice, kind="wash_sale", message="wash sale: AAA bought back within 30 days",
            dedup_key=f"wash:{portfolio.pk}:AAA", portfolio=portfolio, numbers={"loss": "125.00"})
        pushed = await socket_.receive_json_from(timeout=5)
        await socket_.disconnect()
        return pushed

    pushed = async_to_sync(scenario)()
    assert pushed["event"] == "raised"
    assert (pushed["alert"]["rule"], pushed["alert"]["portfolio"], pushed["alert"]["numbers"]) == \
        ("wash_sale", portfolio.pk, {"loss": "125.00"})


def test_risk_pages_point_their_script_at_the_served_socket(alice):
    import re

    from django.contrib.staticfiles import finders

    portfolio = trading_services.portfolio_create(owner=alice, name="main")
    client = Client()
    client.force_login(alice)
    pages = [client.get(f"/portfolios/{portfolio.pk}/risk/").content.decode(), client.get("/risk/").content.decode()]
    sockets = [re.search(r'data-alerts-socket="([^"]+)"', html).group(1) for html in pages]
    polls = [re.search(r'data-alerts-poll="([^"]+)"', html).group(1) for html in pages]
    cookie = b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()

    async def scenario(path):
        communicator = WebsocketCommunicator(application, path, headers=[ORIGIN, cookie])
        connected, _ = await communicator.connect()
        ready = await communicator.receive_json_from(timeout=5)
        await communicator.disconnect()
        return connected, ready

    assert [async_to_sync(scenario)(path) for path in sockets] == [(True, {"event": "ready", "user": "alice"})] * 2
    assert all('src="/static/bifrost/risk-alerts.js"' in html for html in pages)
    assert finders.find("bifrost/risk-alerts.js") is not None
    assert [client.get(url).status_code for url in polls] == [200, 200]  # the fallback's endpoints


def test_acknowledging_over_http_pushes_to_the_socket_in_the_same_application(alice):
    """The embedded default's path: the ack request and the socket in one ASGI application and
    channel layer (in-memory without Redis), the push made from inside the HTTP request."""
    from channels.testing import HttpCommunicator

    alert = _raise(alice, key="p1:leverage:hard")
    cookie = _cookie_header(alice)
    token = Token.objects.create(user=alice).key

    async def scenario():
        socket_ = await _connect(cookie)
        await socket_.receive_json_from(timeout=5)
        http = HttpCommunicator(application, "POST", f"/api/v1/risk/alerts/{alert.pk}/ack/", body=b"",
                                headers=[(b"authorization", f"Token {token}".encode()), (b"host", b"testserver")])
        response = await http.get_response(timeout=10)
        pushed = await socket_.receive_json_from(timeout=5)
        await socket_.disconnect()
        return response["status"], pushed

    status, pushed = async_to_sync(scenario)()
    assert status == 200
    assert (pushed["event"], pushed["alert"]["id"], pushed["alert"]["acknowledged"]) == ("acknowledged", alert.pk, True)


def test_rolled_back_raise_is_not_pushed(alice):
    from django.db import transaction

    cookie = _cookie_header(alice)

    def raise_then_fail():
        with pytest.raises(RuntimeError), transaction.atomic():
            _raise(alice)
            raise RuntimeError("use case failed after the alert")

    async def scenario():
        from channels.db import database_sync_to_async

        socket_ = await _connect(cookie)
        await socket_.receive_json_from(timeout=5)
        await database_sync_to_async(raise_then_fail)()
        quiet = await socket_.receive_nothing(timeout=0.3)
        await socket_.disconnect()
        return quiet

    assert async_to_sync(scenario)() is True
    assert not models.RiskAlert.objects.exists()


@pytest.mark.redis
def test_socket_on_redis_layer_gets_alert_raised_in_another_thread(alice, redis_url, settings):
    """A raise in a thread with no event loop (as in a Celery worker) reaches the socket through Redis."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": [redis_url],
                                                      "prefix": f"h5-test-{os.getpid()}:asgi"}}}
    from channels.layers import get_channel_layer
    from channels_redis.core import RedisChannelLayer

    assert isinstance(get_channel_layer(), RedisChannelLayer)
    cookie = _cookie_header(alice)
    raised: list[int] = []

    async def scenario():
        socket_ = await _connect(cookie)
        await socket_.receive_json_from(timeout=5)
        def in_worker_thread():
            from django.db import connection

            try:
                raised.append(_raise(alice, key="h1:var:hard").pk)
            finally:
                connection.close()  # the thread's own connection, or the test database stays in use

        worker = threading.Thread(target=in_worker_thread)
        worker.start()
        pushed = await socket_.receive_json_from(timeout=10)
        worker.join()
        await socket_.disconnect()
        return pushed

    pushed = async_to_sync(scenario)()
    assert (pushed["event"], pushed["alert"]["id"], pushed["alert"]["occurrences"]) == ("raised", raised[0], 1)


@pytest.mark.postgres
@pytest.mark.redis
def test_served_portal_pushes_alert_to_real_websocket_client(alice, redis_url, settings, tmp_path):
    """``bifrost serve`` (uvicorn, a separate process) on this run's database and Redis."""
    from django.db import connection
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    db = connection.settings_dict
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="bifrost_web.config.settings.test", PYTHONUNBUFFERED="1",
               DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
               BIFROST_DATA_DIR=str(tmp_path), DJANGO_SECRET_KEY=settings.SECRET_KEY)  # our session cookie
    with served("--no-migrate", env=env, log_path=tmp_path / "serve.log", wait_seconds=60) as port:
        url = f"ws://127.0.0.1:{port}{URL}"
        origin = f"http://127.0.0.1:{port}"
        with connect(url, origin=origin, open_timeout=10) as anonymous:
            with pytest.raises(ConnectionClosed) as closed:
                anonymous.recv(timeout=10)
        cookie = _cookie_header(alice)[1].decode()
        with connect(url, origin=origin, additional_headers={"Cookie": cookie}, open_timeout=10) as ws:
            ready = json.loads(ws.recv(timeout=10))
            alert = _raise(alice, key="p9:max_drawdown:hard", rule="max_drawdown")
            pushed = json.loads(ws.recv(timeout=10))
            # acknowledged through the served API: the push is made inside the server's request
            token = Token.objects.create(user=alice).key
            ack = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/risk/alerts/{alert.pk}/ack/", data=b"",
                                         method="POST", headers={"Authorization": f"Token {token}"})
            with urllib.request.urlopen(ack, timeout=10) as response:
                ack_status = response.status
            acked = json.loads(ws.recv(timeout=10))
    assert closed.value.rcvd.code == consumers.CLOSE_UNAUTHENTICATED
    assert ready == {"event": "ready", "user": "alice"}
    assert (pushed["event"], pushed["alert"]["id"], pushed["alert"]["rule"]) == ("raised", alert.pk, "max_drawdown")
    assert ack_status == 200
    assert (acked["event"], acked["alert"]["id"], acked["alert"]["acknowledged"]) == ("acknowledged", alert.pk, True)
