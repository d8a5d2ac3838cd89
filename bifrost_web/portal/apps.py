from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "bifrost_web.portal"
    label = "portal"
