"""Websocket routes of the risk service (mounted by :mod:`bifrost_web.config.asgi`)."""

from django.urls import path

from bifrost_web.risk import consumers

websocket_urlpatterns = [
    path("ws/risk/alerts/", consumers.AlertConsumer.as_asgi(), name="ws-risk-alerts"),
]
