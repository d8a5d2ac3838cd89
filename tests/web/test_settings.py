"""Configuration: an empty environment gives the embedded default; URLs switch to services."""

import json
import os
import subprocess
import sys

SNIPPET = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']), "
    "'eager': s.CELERY_TASK_ALWAYS_EAGER, 'broker': s.CELERY_BROKER_URL, "
    "'cache': s.CACHES['default']['BACKEND'], 'channels': s.CHANNEL_LAYERS['default']['BACKEND']}))"
)


def _settings_in(env: dict) -> dict:
    clean = {k: v for k, v in os.environ.items()
             if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE", "BIFROST_DATA_DIR"}}
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "bifrost_web.config.settings.local"
    out = subprocess.run([sys.executable, "-c", SNIPPET], env=clean, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_empty_environment_gives_embedded_default(tmp_path):
    config = _settings_in({"BIFROST_DATA_DIR": str(tmp_path)})
    assert config == {
        "db": "django.db.backends.sqlite3", "name": str(tmp_path / "bifrost.sqlite3"), "eager": True,
        "broker": "memory://", "cache": "django.core.cache.backends.locmem.LocMemCache",
        "channels": "channels.layers.InMemoryChannelLayer",
    }
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # the generated key is private


def test_database_and_redis_urls_switch_to_services(tmp_path):
    config = _settings_in({"BIFROST_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgres://u@db.example:5432/bifrost",
                           "REDIS_URL": "redis://cache.example:6379/1"})
    assert config["db"] == "django.db.backends.postgresql" and config["name"] == "bifrost"
    assert config["eager"] is False and config["broker"] == "redis://cache.example:6379/1"
    assert config["cache"] == "django_redis.cache.RedisCache"
    assert config["channels"] == "channels_redis.core.RedisChannelLayer"


def test_production_settings_refuse_to_start_without_secrets(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY"}}
    env.update({"BIFROST_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "bifrost_web.config.settings.production"})
    out = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "production settings need DATABASE_URL" in out.stderr
