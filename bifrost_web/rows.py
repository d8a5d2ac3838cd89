"""Model instances from hand-written SQL, for the few hot paths where building ORM queries
costs more than running them (order entry, pre-trade checks).

The ORM spends most of a simple lookup compiling the query. :class:`RowReader` keeps the
column list once per model and turns a raw row into an instance with the same database
converters and ``from_db_value`` hooks the ORM applies (so Decimal, JSON and datetime
columns come back exactly as ``Model.objects.get`` would give them, on SQLite and
PostgreSQL alike).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection as default_connection
from django.db.models import Model


class RowReader:
    """Read rows of ``model``'s concrete columns (or of ``fields``) into instances."""

    def __init__(self, model: type[Model], fields: Sequence[str] | None = None) -> None:
        meta = model._meta
        self.model = model
        self.fields = [meta.get_field(name) for name in fields] if fields else list(meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.table = meta.db_table
        self._converters: dict[str, list[tuple[int, list, Any]]] = {}

    def columns(self, alias: str = "") -> str:
        """The quoted column list, optionally qualified by a table alias."""
        quote = default_connection.ops.quote_name
        prefix = f"{alias}." if alias else ""
        return ", ".join(prefix + quote(f.column) for f in self.fields)

    def _converters_for(self, connection) -> list[tuple[int, list, Any]]:
        found = self._converters.get(connection.vendor)
        if found is None:
            found = []
            for i, field in enumerate(self.fields):
                col = field.get_col(self.table)
                converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                if converters:
                    found.append((i, converters, col))
            self._converters[connection.vendor] = found
        return found

    def values(self, row: Sequence[Any], connection=None) -> list[Any]:
        connection = connection or default_connection
        values = list(row[:len(self.fields)])
        for i, converters, col in self._converters_for(connection):
            value = values[i]
            for converter in converters:
                value = converter(value, col, connection)
            values[i] = value
        return values

    def instance(self, row: Sequence[Any], connection=None) -> Model:
        connection = connection or default_connection
        return self.model.from_db(connection.alias, self.attnames, self.values(row, connection))

    def insert(self, instances: Sequence[Model], connection=None) -> None:
        """INSERT ``instances`` in one statement and set their primary keys.

        Field defaults and ``auto_now(_add)`` apply as in ``save()``; model signals are
        *not* sent (callers that need them send ``post_save`` themselves).
        """
        if not instances:
            return
        connection = connection or default_connection
        fields = [f for f in self.fields if not f.primary_key]
        pk_column = connection.ops.quote_name(self.model._meta.pk.column)
        quote = connection.ops.quote_name
        params: list[Any] = []
        for instance in instances:
            params.extend(f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields)
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = (f"INSERT INTO {quote(self.table)} ({', '.join(quote(f.column) for f in fields)}) "
               f"VALUES {', '.join([row] * len(instances))} RETURNING {pk_column}")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            keys = [r[0] for r in cursor.fetchall()]
        for instance, key in zip(instances, keys, strict=True):
            instance.pk = key
            instance._state.adding = False
            instance._state.db = connection.alias
