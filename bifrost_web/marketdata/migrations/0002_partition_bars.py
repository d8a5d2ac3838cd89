"""On PostgreSQL, rebuild the (empty) bar table as a partitioned table or a hypertable.

Django's model state is unchanged: the table keeps the same columns and natural key.
See ``bifrost_web.marketdata.storage`` for the layout.
"""

from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from bifrost_web.marketdata.storage import create_partitioned_bar_table

    create_partitioned_bar_table(schema_editor)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from bifrost_web.marketdata.storage import _BAR_COLUMNS_DDL, drop_partitioned_bar_table

    drop_partitioned_bar_table(schema_editor)
    schema_editor.execute(
        f"CREATE TABLE marketdata_bar ({_BAR_COLUMNS_DDL}, PRIMARY KEY (id), "
        "CONSTRAINT bar_unique_instrument_tf_ts UNIQUE (instrument_id, timeframe, ts))"
    )


class Migration(migrations.Migration):
    dependencies = [("marketdata", "0001_initial")]
    operations = [migrations.RunPython(forward, backward, elidable=False)]
