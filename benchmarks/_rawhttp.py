"""A minimal HTTP/1.1 client for the served-API benchmarks: one event loop, raw requests on
keep-alive connections, so the client adds microseconds rather than the milliseconds (and the
collector pauses) of a threaded HTTP library."""

from __future__ import annotations

import asyncio
import json
import time


async def post_json(port: int, path: str, token: str, payload: dict, pool: asyncio.Queue) -> tuple[int, float]:
    """POST ``payload`` on a free keep-alive connection from ``pool`` (or a new one).

    Returns (HTTP status, latency in ms from the request's first byte sent to the answer's
    last byte received). A connection the server closed while idle is replaced once.
    """
    body = json.dumps(payload).encode()
    request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Token {token}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    try:
        reader, writer = pool.get_nowait()
    except asyncio.QueueEmpty:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = time.perf_counter()
    writer.write(request)
    status_line = await reader.readline()
    if not status_line:  # the server closed an idle keep-alive connection: open another
        writer.close()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        sent = time.perf_counter()
        writer.write(request)
        status_line = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    latency = (time.perf_counter() - sent) * 1000
    pool.put_nowait((reader, writer))
    return int(status_line.split()[1]), latency


def close_all(pool: asyncio.Queue) -> None:
    while not pool.empty():
        pool.get_nowait()[1].close()
