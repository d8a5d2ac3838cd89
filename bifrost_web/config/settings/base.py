"""Settings shared by every environment, driven by environment variables.

An empty environment gives the embedded default: SQLite under the data directory,
tasks run in-process, an in-memory cache and channel layer. ``DATABASE_URL``
(PostgreSQL) and ``REDIS_URL`` switch to production services. See README.md,
"Configuration", for every variable.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PACKAGE_DIR = Path(__file__).resolve().parents[2]  # bifrost_web/
DATA_DIR = Path(os.environ.get("BIFROST_DATA_DIR") or Path.home() / ".local" / "share" / "bifrost")
DATA_DIR = DATA_DIR.expanduser().resolve()

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")


def _secret_key() -> str:
    key = os.environ.get("DJANGO_SECRET_KEY")
    if key:
        return key
    # Embedded default only: a random key kept in the data directory so sessions survive
    # restarts. Production settings refuse to start without DJANGO_SECRET_KEY.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("BIFROST_DEBUG", False)
ALLOWED_HOSTS = env_list("BIFROST_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("BIFROST_CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "bifrost_web.accounts",
    "bifrost_web.marketdata",
    "bifrost_web.trading",
    "bifrost_web.backtests",
    "bifrost_web.risk",
    "bifrost_web.execquality",
    "bifrost_web.compliance",
    "bifrost_web.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "bifrost_web.config.urls"
WSGI_APPLICATION = "bifrost_web.config.wsgi.application"
ASGI_APPLICATION = "bifrost_web.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"].endswith("postgresql") and env_bool("BIFROST_DB_POOL", True):
        # psycopg's connection pool, one per process: the ASGI server runs views on changing
        # threads, where Django's persistent connections would leak one connection per thread.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1, "max_size": int(os.environ.get("BIFROST_DB_POOL_SIZE", "8")), "timeout": 10,
        }
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "bifrost.sqlite3",
            # IMMEDIATE: a transaction takes the write lock when it begins, waiting up to the timeout.
            # With SQLite's default (DEFERRED) a transaction that reads and then writes - the audit
            # trail's append - fails at once with "database is locked" when another process writes.
            "OPTIONS": {"timeout": 30, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                        "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("BIFROST_CACHE_PREFIX", "bifrost"),
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 3, "SOCKET_TIMEOUT": 3},
        }
    }
    CHANNEL_LAYERS = {  # the portal's live alerts; the prefix keeps deployments sharing a Redis apart
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                    "CONFIG": {"hosts": [REDIS_URL],
                               "prefix": f"{os.environ.get('BIFROST_CACHE_PREFIX', 'bifrost')}:asgi"}}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "bifrost"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("BIFROST_STATIC_ROOT") or DATA_DIR / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on a missing root
STATICFILES_DIRS: list = [PACKAGE_DIR / "static"]
try:  # Plotly's JavaScript is served from the installed plotly package, never a CDN.
    import plotly

    STATICFILES_DIRS.append(("vendor/plotly", Path(plotly.__file__).parent / "package_data"))
except ImportError:  # pragma: no cover - plotly is a hard dependency
    pass
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # token auth that writes an audit entry the first time a token is used in each hour
        "bifrost_web.compliance.auth.AuditedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "bifrost_web.api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Bifrost Trader API",
    "DESCRIPTION": "Market data, portfolios, orders and the risk, execution and compliance services.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI and Redoc are served from the installed sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Celery: Redis when REDIS_URL is set, otherwise tasks run in-process (eager).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not (REDIS_URL or os.environ.get("CELERY_BROKER_URL"))
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("BIFROST_CELERY_QUEUE", "bifrost")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = int(os.environ.get("BIFROST_TASK_TIME_LIMIT", "1800"))
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("BIFROST_TASK_SOFT_TIME_LIMIT", "1500"))
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# The watch-list refresh runs after the US close on every weekday; the task itself
# skips days that are not XNYS sessions.
BIFROST_REFRESH_CRON = os.environ.get("BIFROST_REFRESH_CRON", "30 22 * * 1-5")

_cron = BIFROST_REFRESH_CRON.split()
CELERY_BEAT_SCHEDULE = {
    "refresh-watch-lists": {
        "task": "bifrost_web.marketdata.tasks.refresh_watch_lists",
        "schedule": crontab(minute=_cron[0], hour=_cron[1], day_of_month=_cron[2], month_of_year=_cron[3],
                            day_of_week=_cron[4]),
    },
    "paper-fills": {"task": "bifrost_web.trading.tasks.paper_process_all", "schedule": 60.0},
    # execution algorithms (TWAP, VWAP, POV, IS, iceberg, peg) release their next child orders
    "algo-orders": {"task": "bifrost_web.execquality.tasks.algo_orders_work", "schedule": 30.0},
    # intraday risk revaluation and alerts, and the daily risk report after the close
    "risk-revalue": {"task": "bifrost_web.risk.tasks.risk_revalue_all", "schedule": 300.0},
    "risk-daily-report": {"task": "bifrost_web.risk.tasks.risk_daily_reports",
                          "schedule": crontab(minute="0", hour="23", day_of_week="1-5")},
    # compliance: nightly wash-sale/day-trade rescans, audit-chain verification, quarterly reports
    "compliance-scan": {"task": "compliance.scan_all", "schedule": crontab(minute="30", hour="23", day_of_week="1-5")},
    "compliance-audit-verify": {"task": "compliance.audit_verify", "schedule": crontab(minute="0", hour="2")},
    "compliance-reports": {"task": "compliance.generate_reports",
                           "schedule": crontab(minute="0", hour="3", day_of_month="1", month_of_year="1,4,7,10")},
    "portfolio-snapshots": {
        "task": "bifrost_web.trading.tasks.snapshot_all",
        "schedule": crontab(minute="45", hour="22", day_of_week="1-5"),
    },
}

# Market data provider for refreshes: "yahoo" (network) or "none".
BIFROST_PROVIDER = os.environ.get("BIFROST_PROVIDER", "yahoo")
# how long an API token lookup may be served from the cache (dropped at once when the token or user changes)
# "durable" (default) or "fast": order entry commits without waiting for the disk (PostgreSQL
# synchronous_commit off for that transaction only; see bifrost_web.trading.services)
BIFROST_ORDER_COMMIT = os.environ.get("BIFROST_ORDER_COMMIT", "durable")
if BIFROST_ORDER_COMMIT not in ("durable", "fast"):
    raise ImproperlyConfigured(f"BIFROST_ORDER_COMMIT must be durable or fast, was {BIFROST_ORDER_COMMIT!r}")
# threads per web process that run Django's (synchronous) request handling
BIFROST_HTTP_THREADS = int(os.environ.get("BIFROST_HTTP_THREADS", "4"))
# With Redis: version numbers of cached configuration pushed to every process (bifrost_web.caching)
BIFROST_VERSION_FEED = env_bool("BIFROST_VERSION_FEED", True)
BIFROST_AUTH_CACHE_SECONDS = int(os.environ.get("BIFROST_AUTH_CACHE_SECONDS", "60"))

EMAIL_BACKEND = os.environ.get("BIFROST_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("BIFROST_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
