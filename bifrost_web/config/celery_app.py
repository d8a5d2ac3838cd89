"""The Celery application. Workers start with ``bifrost worker``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bifrost_web.config.settings.local")

app = Celery("bifrost")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
