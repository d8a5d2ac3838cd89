from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "bifrost_web.accounts"
    label = "accounts"

    def ready(self) -> None:
        from bifrost_web.accounts import auth

        auth.connect()
