from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "bifrost_web.accounts"
    label = "accounts"
