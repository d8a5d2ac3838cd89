"""The ASGI application: Django for HTTP, Channels for the portal's websockets.

``websocket`` connections pass an origin check against ``ALLOWED_HOSTS`` (a page on another
site cannot open a socket with the user's cookies), then the session cookie is resolved to the
user, then the URL picks the consumer. ``bifrost serve`` runs this under uvicorn, whose
websocket support comes from the ``websockets`` package.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bifrost_web.config.settings.local")
get_asgi_application()  # sets Django up before the consumers import models

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

from bifrost_web.config.http import SyncDjangoHttp  # noqa: E402

# HTTP: Django's synchronous handler in one thread hop per request (see bifrost_web.config.http)
django_application = SyncDjangoHttp(get_wsgi_application(), threads=settings.BIFROST_HTTP_THREADS)

from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # import every view now, not on a worker's first request  # noqa: B018

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from bifrost_web.risk.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_application,
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
})

import gc  # noqa: E402

# What start-up loaded (Django, pandas, NumPy, numba, the calendars) lives as long as the process:
# move it out of the collector's sight, so that a full collection during a request scans only
# what requests made (a full collection of the ~290,000 start-up objects took about 200 ms here,
# a pause any request could land in).
gc.collect()
gc.freeze()
