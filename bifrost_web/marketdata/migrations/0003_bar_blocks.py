"""On native PostgreSQL, add the column-block table that serves fast intraday reads."""

from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from bifrost_web.marketdata import blocks, storage

    if storage.storage_mode(schema_editor.connection) != "native":
        return
    blocks.create_block_table(schema_editor)
    with schema_editor.connection.cursor() as cursor:
        blocks.backfill(cursor, storage._tf_table)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TABLE IF EXISTS marketdata_barblock")


class Migration(migrations.Migration):
    dependencies = [("marketdata", "0002_partition_bars")]
    operations = [migrations.RunPython(forward, backward, elidable=False)]
