"""Django's synchronous request handling served to an ASGI server, one thread hop per request.

Django's own ASGI handler runs every synchronous middleware and view through its own
``sync_to_async`` hop; with eight middleware and DRF views that costs about 3 ms a request
here (order entry, in process: p50 7.5 ms through the ASGI handler, 4.2 ms through this).
:class:`SyncDjangoHttp` makes one hop instead: it reads the request body, builds a PEP 3333
environ, and runs Django's WSGI handler on a small thread pool, through asgiref's
``sync_to_async`` so that code in the request that calls ``async_to_sync`` (the channel
layer that pushes alerts to portal sockets) still runs on the server's event loop.

The response is collected in the worker thread and then sent; request bodies above 1 MB
spool to a temporary file, as Django's own handlers do. The pool (:class:`LifoThreadPool`)
gives each request to the thread that finished last, so under light load one thread with
warm caches serves them (``ThreadPoolExecutor`` rotates through its threads).

Garbage collection: ``asgi.py`` freezes what start-up loaded, but a process's first requests
load more (lazy imports, exchange calendars, compiled kernels, caches), and every full
collection then scans it all: 15-25 ms pauses every few seconds at 100 orders/s, which set
the p99 of order entry. After its first ``refreeze_after`` requests, each process collects
once and freezes what survives. What requests leave in reference cycles still reaches the
oldest generation (it is alive while its request runs), where the collector let it pile up
for seconds and then freed ~11,000 objects in one 6-9 ms pause; so every ``collect_every``
requests, at a moment when no request is running in the process, it is collected then
(about a millisecond), between requests instead of inside one.
"""

from __future__ import annotations

import collections
import gc
import sys
import tempfile
import threading
from concurrent.futures import Executor, Future

from asgiref.sync import sync_to_async

_SPOOL_BYTES = 1 << 20


def _environ(scope: dict, body) -> dict:
    root = scope.get("root_path", "")
    path = scope["path"]
    if root and path.startswith(root):
        path = path[len(root):]
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root.encode("utf-8").decode("latin-1"),
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] or 80),
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[name] = value
            continue
        key = f"HTTP_{name}"
        if key in environ:  # repeated header: cookies join with "; ", everything else with ","
            value = environ[key] + ("; " if name == "COOKIE" else ",") + value
        environ[key] = value
    return environ


class LifoThreadPool(Executor):
    """A thread pool that hands each task to the thread that went idle last.

    ``ThreadPoolExecutor``'s idle threads take turns (they wait on one queue), so at a few
    requests a second every request ran on a different thread, with that thread's stack and
    thread-local state (database connection handle, caches) cold. Here an idle thread waits
    on its own slot and the most recently used one is woken first: under light load one
    thread serves everything, and more start (up to ``max_workers``) only when requests
    overlap. Tasks beyond that wait in arrival order.
    """

    def __init__(self, max_workers: int, thread_name_prefix: str = "pool") -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, was {max_workers}")
        self.max_workers = max_workers
        self.prefix = thread_name_prefix
        self._lock = threading.Lock()
        self._idle: list[_Slot] = []  # a stack: the last to go idle is woken first
        self._waiting: collections.deque = collections.deque()
        self._threads: list[threading.Thread] = []
        self._shutdown = False

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        task = (future, fn, args, kwargs)
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot submit to a pool that was shut down")
            if self._idle:
                self._idle.pop().give(task)
            elif len(self._threads) < self.max_workers:
                slot = _Slot()
                slot.give(task)
                thread = threading.Thread(target=self._work, args=(slot,), daemon=True,
                                          name=f"{self.prefix}_{len(self._threads)}")
                self._threads.append(thread)
                thread.start()
            else:
                self._waiting.append(task)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                while self._waiting:
                    self._waiting.popleft()[0].cancel()
            while self._idle:
                self._idle.pop().give(None)
            threads = list(self._threads)
        if wait:
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join()

    def _work(self, slot: _Slot) -> None:
        task = slot.take()
        while task is not None:
            future, fn, args, kwargs = task
            outcome, failed = None, False
            if not future.set_running_or_notify_cancel():
                future = None
            else:
                try:
                    outcome, failed = fn(*args, **kwargs), False
                except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
                    outcome, failed = exc, True
            # back on the idle stack before the caller hears of the result, so that its next
            # task (often submitted at once) finds this thread rather than starting another
            with self._lock:
                if self._waiting:
                    task = self._waiting.popleft()
                elif self._shutdown:
                    task = None
                else:
                    self._idle.append(slot)
                    task = slot
            if future is not None:
                if failed:
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
            del future, fn, args, kwargs, outcome  # drop references before sleeping
            if task is slot:
                task = slot.take()


class _Slot:
    """One idle thread's mailbox."""

    __slots__ = ("_ready", "_task")

    def __init__(self) -> None:
        self._ready = threading.Semaphore(0)
        self._task = None

    def give(self, task) -> None:
        self._task = task
        self._ready.release()

    def take(self):
        self._ready.acquire()
        task, self._task = self._task, None
        return task


class SyncDjangoHttp:
    """An ASGI app (HTTP scopes only) that runs a WSGI application on ``threads`` threads."""

    def __init__(self, wsgi_application, *, threads: int = 4, refreeze_after: int = 100,
                 collect_every: int = 50) -> None:
        self.wsgi_application = wsgi_application
        self.executor = LifoThreadPool(max_workers=threads, thread_name_prefix="bifrost-http")
        self._run = sync_to_async(self._respond, thread_sensitive=False, executor=self.executor)
        self.refreeze_after = refreeze_after
        self.collect_every = collect_every
        self.served = 0
        self.in_flight = 0
        self._since_collect = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"SyncDjangoHttp serves http scopes, not {scope['type']}")
        self.in_flight += 1  # the event loop's thread is the only one that counts
        try:
            body = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)
            try:
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    body.write(message.get("body", b""))
                    if not message.get("more_body", False):
                        break
                body.seek(0)
                status, headers, chunks = await self._run(_environ(scope, body))
            finally:
                body.close()
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": b"".join(chunks)})
        finally:
            self.in_flight -= 1
        self._after_request()

    def _after_request(self) -> None:
        self.served += 1
        self._since_collect += 1
        if self.served == self.refreeze_after:
            gc.collect()
            gc.freeze()
            self._since_collect = 0
        elif self._since_collect >= self.collect_every and self.in_flight == 0:
            gc.collect()
            self._since_collect = 0

    def _respond(self, environ: dict) -> tuple[int, list[tuple[bytes, bytes]], list[bytes]]:
        started: list = []

        def start_response(status: str, headers, exc_info=None):
            if exc_info and started:
                raise exc_info[1].with_traceback(exc_info[2])
            # Django writes Set-Cookie values with a leading space, which strict HTTP writers reject
            started[:] = [int(status.split(" ", 1)[0]),
                          [(n.lower().encode("latin-1"), v.strip().encode("latin-1")) for n, v in headers]]
            return lambda data: chunks.append(data)

        chunks: list[bytes] = []
        result = self.wsgi_application(environ, start_response)
        try:
            chunks.extend(chunk for chunk in result if chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()  # Django sends request_finished here (and returns DB connections)
        return started[0], started[1], chunks
