from django.apps import AppConfig


class MarketdataConfig(AppConfig):
    name = "bifrost_web.marketdata"
    label = "marketdata"
    verbose_name = "Market data"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from bifrost_web.marketdata.models import Instrument

        post_delete.connect(_drop_blocks, sender=Instrument, dispatch_uid="marketdata.drop_blocks")


def _drop_blocks(sender, instance, using, **kwargs) -> None:
    # Blocks have no foreign key to the instrument (see blocks.py); drop them with it.
    from django.db import connections

    from bifrost_web.marketdata import blocks, storage

    connection = connections[using]
    if connection.vendor == "postgresql" and storage.storage_mode(connection) == "native":
        with connection.cursor() as cursor:
            blocks.delete_blocks(cursor, instance.pk)
