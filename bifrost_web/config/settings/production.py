"""Production: PostgreSQL and Redis are required, secrets only from the environment."""

import os

from django.core.exceptions import ImproperlyConfigured

from bifrost_web.config.settings.base import *  # noqa: F403
from bifrost_web.config.settings.base import DATABASE_URL, REDIS_URL

for _name, _value in (("DATABASE_URL", DATABASE_URL), ("REDIS_URL", REDIS_URL),
                      ("DJANGO_SECRET_KEY", os.environ.get("DJANGO_SECRET_KEY", ""))):
    if not _value:
        raise ImproperlyConfigured(f"production settings need {_name} in the environment")

DEBUG = False
SESSION_COOKIE_SECURE = os.environ.get("BIFROST_SECURE_COOKIES", "1") == "1"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
