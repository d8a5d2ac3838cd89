"""Test-wide fixtures: shared data, service requirements and a real Celery worker.

Which services a run uses comes from the environment, as in production: no
``DATABASE_URL`` means SQLite and no ``REDIS_URL`` means eager tasks. Tests marked
``postgres``, ``redis`` or ``celery_worker`` need those services. In a run without
them (the embedded-default pass) they are deselected, because that pass is about
the embedded default; in a run that configures them, an unreachable service fails
the test under CI (``CI=true``) and skips it elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"


def shared_data_path() -> Path:
    return Path(os.environ.get("BIFROST_SHARED_DATA") or REPO.parent / "shared" / "data")


@pytest.fixture
def daily_bars():
    from tests.factories import xnys_daily_bars

    return xnys_daily_bars("2024-01-02", "2024-03-28")  # 61 XNYS sessions


@pytest.fixture
def minute_bars():
    from tests.factories import xnys_minute_bars

    return xnys_minute_bars("2024-11-29")  # the day after Thanksgiving: a 13:00 ET early close


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_path()
    if not path.is_dir():
        if IN_CI:
            pytest.fail(f"shared test data not found at {path} (set BIFROST_SHARED_DATA)")
        pytest.skip(f"shared test data not found at {path}")
    return path


def _uses_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def _uses_redis() -> bool:
    return bool(os.environ.get("REDIS_URL"))


def pytest_collection_modifyitems(config, items):
    keep, drop = [], []
    for item in items:
        needs_pg = item.get_closest_marker("postgres") is not None
        needs_redis = item.get_closest_marker("redis") or item.get_closest_marker("celery_worker")
        if (needs_pg and not _uses_postgres()) or (needs_redis and not _uses_redis()):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _service_unavailable(message: str):
    if IN_CI:
        pytest.fail(f"{message} (CI=true: services the run configures must be reachable)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_url() -> str:
    import redis

    url = os.environ["REDIS_URL"]
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _service_unavailable(f"Redis at {url} is not reachable: {exc}")
    return url


def spawn_celery_worker(queue: str, *, pool: str = "prefork") -> tuple[subprocess.Popen, Path]:
    """Start ``celery worker`` on ``queue`` against this run's test database; wait until it answers."""
    from django.db import connection

    from bifrost_web.config.celery_app import app

    settings_dict = connection.settings_dict
    env = dict(os.environ)
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = (f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:"
                               f"{settings_dict['PORT']}/{settings_dict['NAME']}")
    env.update({"DJANGO_SETTINGS_MODULE": "bifrost_web.config.settings.test", "BIFROST_CELERY_QUEUE": queue,
                "PYTHONUNBUFFERED": "1"})
    log_path = Path(os.environ.get("BIFROST_DATA_DIR", "/tmp")) / f"celery-{queue}.log"
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "bifrost_web.config.celery_app", "worker", "--loglevel=info",
         "--concurrency=1", f"--pool={pool}", f"--queues={queue}", f"--hostname={queue}@%h", "--without-gossip",
         "--without-mingle", "--without-heartbeat"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"celery worker exited early:\n{log_path.read_text()[-3000:]}")
        if app.control.inspect(destination=[f"{queue}@{os.uname().nodename}"], timeout=1).ping():
            return process, log_path
    process.kill()
    pytest.fail(f"celery worker did not answer within 60 s:\n{log_path.read_text()[-3000:]}")


def stop_celery_worker(process: subprocess.Popen, queue: str, redis_url: str) -> None:
    import redis

    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    client = redis.Redis.from_url(redis_url)
    for key in list(client.scan_iter(f"*{queue}*")):
        client.delete(key)


@pytest.fixture(scope="session")
def _celery_worker_process(django_db_setup, django_db_blocker, redis_url):
    """A real ``celery worker`` process on its own queue, using this run's test database."""
    from bifrost_web.config.celery_app import app

    queue = f"bifrost-test-{uuid.uuid4().hex[:8]}"
    process, log_path = spawn_celery_worker(queue)
    app.conf.task_default_queue = queue
    try:
        yield {"queue": queue, "process": process, "log": log_path}
    finally:
        stop_celery_worker(process, queue, redis_url)


@pytest.fixture
def celery_worker(_celery_worker_process):
    """Send tasks to the real worker for the duration of one test (tasks are eager otherwise)."""
    import redis
    from celery.signals import before_task_publish

    from bifrost_web.config.celery_app import app

    published: list[str] = []

    def remember(headers=None, **_):
        if headers and headers.get("id"):
            published.append(headers["id"])

    before_task_publish.connect(remember, weak=False)
    app.conf.task_always_eager = False
    try:
        yield _celery_worker_process
    finally:
        app.conf.task_always_eager = True
        before_task_publish.disconnect(remember)
        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        for task_id in published:
            client.delete(f"celery-task-meta-{task_id}")
