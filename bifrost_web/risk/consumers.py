"""Real-time alert delivery to the portal: one websocket per open page, one group per user.

The socket at ``/ws/risk/alerts/`` is authenticated by the portal's session cookie
(:func:`channels.auth.AuthMiddlewareStack`) behind an origin check against ``ALLOWED_HOSTS``
(see :mod:`bifrost_web.config.asgi`). An anonymous socket is accepted and closed at once with
code 4401, so a browser sees why (a close before the handshake reaches it as a bare HTTP 403).

The alert service sends every raise, de-duplicated repeat ("bump") and acknowledgement to the
owner's group once its transaction commits (:func:`bifrost_web.risk.services.alert_push`); each
socket forwards it as ``{"event": "raised" | "bumped" | "acknowledged", "alert": {...}}`` with
the fields of :func:`bifrost_web.risk.services.alert_as_dict`.
"""

from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from bifrost_web.risk.services import alert_group

CLOSE_UNAUTHENTICATED = 4401


class AlertConsumer(AsyncJsonWebsocketConsumer):
    """Pushes the signed-in user's risk and compliance alerts; the client only listens."""

    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group = alert_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json({"event": "ready", "user": user.get_username()})

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def risk_alert(self, event: dict) -> None:
        """Handler of ``{"type": "risk.alert"}`` messages sent to the user's group."""
        await self.send_json({"event": event["event"], "alert": event["alert"]})
