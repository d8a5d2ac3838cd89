"""The ASGI-to-Django HTTP adapter (bifrost_web.config.http): requests arrive intact, responses
leave intact, and code in a request that calls async_to_sync runs on the server's loop."""

import asyncio
import json

import pytest
from asgiref.sync import async_to_sync

from bifrost_web.config.http import SyncDjangoHttp


def _scope(method="GET", path="/echo/", query=b"", headers=(), root_path=""):
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "https",
            "path": path, "raw_path": path.encode(), "query_string": query, "root_path": root_path,
            "headers": list(headers), "client": ("10.1.2.3", 5555), "server": ("bifrost.test", 8443)}


async def _call(app, scope, chunks=(b"",)):
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    sent = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent


def _echo(environ, start_response):
    body = environ["wsgi.input"].read()
    payload = {k: environ[k] for k in ("REQUEST_METHOD", "PATH_INFO", "SCRIPT_NAME", "QUERY_STRING", "SERVER_NAME",
                                       "SERVER_PORT", "REMOTE_ADDR", "wsgi.url_scheme") }
    payload.update({k: v for k, v in environ.items() if k.startswith("HTTP_") or k.startswith("CONTENT_")})
    payload["body_length"] = len(body)
    payload["body_head"] = body[:8].decode("latin-1")
    start_response("201 Created", [("Content-Type", "application/json"), ("Set-Cookie", " a=1; Path=/")])
    return [json.dumps(payload).encode(), b"", b"\n"]


def test_request_reaches_the_wsgi_app_with_its_environ():
    app = SyncDjangoHttp(_echo, threads=2)
    scope = _scope("POST", "/api/v1/orders/caf\u00e9/", b"x=1&y=2",
                   [(b"content-type", b"application/json"), (b"content-length", b"11"), (b"cookie", b"a=1"),
                    (b"cookie", b"b=2"), (b"x-tag", b"p"), (b"x-tag", b"q")], root_path="/api")
    sent = asyncio.run(_call(app, scope, [b"hello", b" world"]))

    start, body = sent
    echoed = json.loads(body["body"])
    assert start["status"] == 201
    assert (b"set-cookie", b"a=1; Path=/") in start["headers"]  # leading space stripped
    assert echoed["REQUEST_METHOD"] == "POST" and echoed["SCRIPT_NAME"] == "/api"
    assert echoed["PATH_INFO"] == "/v1/orders/caf\u00e9/".encode().decode("latin-1")  # PEP 3333: bytes as latin-1
    assert echoed["QUERY_STRING"] == "x=1&y=2" and echoed["wsgi.url_scheme"] == "https"
    assert (echoed["SERVER_NAME"], echoed["SERVER_PORT"], echoed["REMOTE_ADDR"]) == ("bifrost.test", "8443", "10.1.2.3")
    assert echoed["CONTENT_TYPE"] == "application/json" and echoed["CONTENT_LENGTH"] == "11"
    assert echoed["HTTP_COOKIE"] == "a=1; b=2" and echoed["HTTP_X_TAG"] == "p,q"
    assert (echoed["body_length"], echoed["body_head"]) == (11, "hello wo")
    assert body["body"].endswith(b"\n")


def test_large_body_spools_and_arrives_whole():
    app = SyncDjangoHttp(_echo, threads=1)
    chunks = [bytes([65 + i]) * (512 * 1024) for i in range(5)]  # 2.5 MB, past the 1 MB spool limit
    sent = asyncio.run(_call(app, _scope("POST"), chunks))
    echoed = json.loads(sent[1]["body"])
    assert (echoed["body_length"], echoed["body_head"]) == (5 * 512 * 1024, "AAAAAAAA")


def test_client_gone_before_the_body_sends_nothing():
    app = SyncDjangoHttp(_echo, threads=1)

    async def run():
        sent = []

        async def receive():
            return {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        await app(_scope("POST"), receive, send)
        return sent

    assert asyncio.run(run()) == []


def test_websocket_scope_is_refused():
    app = SyncDjangoHttp(_echo, threads=1)
    with pytest.raises(ValueError, match="serves http scopes, not websocket"):
        asyncio.run(app({"type": "websocket"}, None, None))


def test_async_to_sync_in_a_request_runs_on_the_server_loop():
    seen = {}

    async def where():
        return asyncio.get_running_loop()

    def app_calling_async(environ, start_response):
        seen["request_loop"] = async_to_sync(where)()
        start_response("200 OK", [])
        return [b"ok"]

    app = SyncDjangoHttp(app_calling_async, threads=2)

    async def run():
        seen["server_loop"] = asyncio.get_running_loop()
        return await _call(app, _scope())

    sent = asyncio.run(run())
    assert sent[0]["status"] == 200 and seen["request_loop"] is seen["server_loop"]


def test_exception_in_the_app_propagates_and_closes_the_result():
    closed = []

    class Result:
        def __iter__(self):
            raise RuntimeError("boom in the view")

        def close(self):
            closed.append(True)

    def app_failing(environ, start_response):
        start_response("200 OK", [])
        return Result()

    with pytest.raises(RuntimeError, match="boom in the view"):
        asyncio.run(_call(SyncDjangoHttp(app_failing, threads=1), _scope()))
    assert closed == [True]


class _Node:
    pass


def test_garbage_in_cycles_is_collected_between_requests_and_startup_refrozen():
    import gc
    import weakref

    app = SyncDjangoHttp(_echo, threads=1, refreeze_after=2, collect_every=3)
    frozen_before = gc.get_freeze_count()
    was_enabled = gc.isenabled()
    gc.disable()  # only the adapter collects during this test
    try:
        node = _Node()
        node.self = node  # a reference cycle: only the cyclic collector frees it
        alive = weakref.ref(node)
        del node
        asyncio.run(_call(app, _scope()))
        still_there = alive() is not None  # one request: neither step due yet
        asyncio.run(_call(app, _scope()))  # the 2nd request: collect and freeze what survives
        refrozen = gc.get_freeze_count()

        late = _Node()
        late.self = late
        late_alive = weakref.ref(late)
        del late
        for _ in range(2):
            asyncio.run(_call(app, _scope()))
        before_due = late_alive() is not None
        asyncio.run(_call(app, _scope()))  # 3 requests since the last collection, none in flight
    finally:
        if was_enabled:
            gc.enable()
        gc.unfreeze()
    assert still_there and alive() is None
    assert refrozen > frozen_before
    assert before_due and late_alive() is None
    assert (app.served, app.in_flight) == (5, 0)


def test_lifo_pool_runs_light_load_on_one_thread_and_grows_under_overlap():
    import threading

    from bifrost_web.config.http import LifoThreadPool

    pool = LifoThreadPool(max_workers=3, thread_name_prefix="t")
    try:
        names = [pool.submit(lambda: threading.current_thread().name).result(timeout=5) for _ in range(20)]
        assert set(names) == {"t_0"}  # one request at a time: the same (warm) thread every time
        release = threading.Event()
        started = threading.Barrier(4)

        def held():
            started.wait(timeout=5)
            release.wait(timeout=5)
            return threading.current_thread().name

        futures = [pool.submit(held) for _ in range(3)]
        started.wait(timeout=5)  # three tasks run at once: the pool grew to its limit
        queued = pool.submit(lambda: "ran after a thread came free")
        assert not queued.done()
        release.set()
        assert {f.result(timeout=5) for f in futures} == {"t_0", "t_1", "t_2"}
        assert queued.result(timeout=5) == "ran after a thread came free"
        failing = pool.submit(lambda: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            failing.result(timeout=5)
    finally:
        pool.shutdown(wait=True)
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(lambda: None)


def test_lifo_pool_skips_a_cancelled_task_and_keeps_serving():
    import threading

    from bifrost_web.config.http import LifoThreadPool

    pool = LifoThreadPool(max_workers=1)
    release = threading.Event()
    try:
        busy = pool.submit(release.wait, 5)
        cancelled = pool.submit(lambda: "never")
        assert cancelled.cancel()
        after = pool.submit(lambda: "served")
        release.set()
        assert busy.result(timeout=5) is True and after.result(timeout=5) == "served" and cancelled.cancelled()
    finally:
        pool.shutdown(wait=True)
