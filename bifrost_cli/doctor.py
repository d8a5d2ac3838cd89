"""``bifrost doctor``: configuration, reachability and versions at a glance."""

from __future__ import annotations

import importlib.metadata as md
import platform

from rich.console import Console
from rich.table import Table

PACKAGES = ["bifrost-trader", "django", "djangorestframework", "celery", "redis", "psycopg", "numpy", "pandas",
            "scipy", "pyarrow", "exchange-calendars", "arch", "yfinance", "plotly", "uvicorn"]


def _version(name: str) -> str:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return "not installed"


def check_database() -> dict:
    from django.conf import settings
    from django.db import connection

    from bifrost_web.marketdata import storage

    db = settings.DATABASES["default"]
    info = {"engine": db["ENGINE"].rsplit(".", 1)[-1], "name": str(db["NAME"]), "host": db.get("HOST") or "-"}
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SHOW server_version")
                info["version"] = "PostgreSQL " + cursor.fetchone()[0]
            else:
                cursor.execute("select sqlite_version()")
                info["version"] = "SQLite " + cursor.fetchone()[0]
        info["reachable"] = True
        info["timescaledb_available"] = storage.timescale_available(connection)
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        info["migrations_pending"] = len(pending)
        info["bar_storage"] = storage.storage_mode(connection) if not pending else "not migrated"
    except Exception as exc:  # doctor reports every failure instead of raising
        info["reachable"] = False
        info["error"] = str(exc).splitlines()[0]
    return info


def check_redis() -> dict:
    from django.conf import settings

    if not settings.REDIS_URL:
        return {"configured": False}
    import redis

    info = {"configured": True, "url": _redact(settings.REDIS_URL)}
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        info["reachable"] = True
        info["version"] = client.info("server").get("redis_version")
    except Exception as exc:
        info["reachable"] = False
        info["error"] = str(exc)
    return info


def check_celery() -> dict:
    from django.conf import settings

    from bifrost_web.config.celery_app import app

    info = {"eager": settings.CELERY_TASK_ALWAYS_EAGER, "broker": _redact(settings.CELERY_BROKER_URL),
            "queue": settings.CELERY_TASK_DEFAULT_QUEUE}
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return info
    try:
        replies = app.control.inspect(timeout=1.5).ping() or {}
        info["workers"] = sorted(replies)
    except Exception as exc:
        info["workers"] = []
        info["error"] = str(exc)
    return info


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://***@{host}"
    return url


def run_doctor(console: Console) -> bool:
    from django.conf import settings

    ok = True
    table = Table("check", "status", "detail", title="Bifrost doctor")
    mode = "production services" if settings.DATABASE_URL or settings.REDIS_URL else "embedded default"
    table.add_row("mode", mode, f"data dir {settings.DATA_DIR}")
    db = check_database()
    db_status = "[green]ok[/green]" if db.get("reachable") else "[red]unreachable[/red]"
    ok &= bool(db.get("reachable"))
    table.add_row("database", db_status, f"{db.get('version', db.get('error', ''))} {db['engine']} {db['name']} @ {db['host']}")
    if db.get("reachable"):
        pending = db.get("migrations_pending", 0)
        table.add_row("migrations", "[green]ok[/green]" if not pending else "[yellow]pending[/yellow]",
                      f"{pending} pending" + (" (run: bifrost setup)" if pending else ""))
        table.add_row("bar storage", db.get("bar_storage", "-"),
                      "TimescaleDB extension available" if db.get("timescaledb_available")
                      else "TimescaleDB not installed: native monthly range partitioning"
                      if db["engine"].startswith("postgres") else "SQLite tables")
    redis_info = check_redis()
    if redis_info["configured"]:
        ok &= bool(redis_info.get("reachable"))
        table.add_row("redis", "[green]ok[/green]" if redis_info.get("reachable") else "[red]unreachable[/red]",
                      f"{redis_info['url']} {redis_info.get('version') or redis_info.get('error', '')}")
    else:
        table.add_row("redis", "not configured", "in-memory cache and channel layer (set REDIS_URL)")
    celery = check_celery()
    if celery["eager"]:
        table.add_row("celery", "in-process", "tasks run eagerly (set REDIS_URL for workers)")
    else:
        workers = celery.get("workers", [])
        table.add_row("celery", "[green]ok[/green]" if workers else "[yellow]no workers[/yellow]",
                      f"broker {celery['broker']} queue {celery['queue']}; workers: {', '.join(workers) or 'none answered'}")
    table.add_row("provider", settings.BIFROST_PROVIDER, "market-data refresh source")
    console.print(table)
    versions = Table("package", "version", title="Versions")
    versions.add_row("python", platform.python_version())
    for name in PACKAGES:
        versions.add_row(name, _version(name))
    console.print(versions)
    return ok
