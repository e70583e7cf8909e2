"""Bulk loading for the generator: ``COPY`` on PostgreSQL, batched ``executemany`` on SQLite.

Rows are dicts keyed by column, all with the same keys; enum columns take their stored string
values. Each SQLite batch is its own transaction; each PostgreSQL table is one ``COPY``.
"""

import enum
import itertools
import time
from collections.abc import Iterable, Iterator

from sqlalchemy import Engine, MetaData, event, func, select, text

BATCH = 20_000


def tune_sqlite_for_loading(engine: Engine) -> None:
    """Trade durability for speed while loading. These pragmas last for the loading connection
    only: the journal mode and every other setting the app finds are SQLite's defaults."""

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA journal_mode=MEMORY")
        cursor.execute("PRAGMA cache_size=-200000")
        cursor.close()


class BulkWriter:
    """``write(table, rows)`` puts many rows in a table as fast as the database allows."""

    def __init__(self, engine: Engine, metadata: MetaData) -> None:
        self.engine = engine
        self.metadata = metadata
        self.postgres = engine.dialect.name == "postgresql"
        self.written: list[str] = []

    def __call__(self, table: str, rows: Iterable[dict]) -> int:
        began = time.perf_counter()
        rows = iter(rows)
        first = next(rows, None)
        count = 0
        if first is not None:
            defaults = self._defaults(table, first)
            rows = ({**defaults, **row} for row in itertools.chain([first], rows))
            columns = [*defaults, *first]
            count = self._copy(table, columns, rows) if self.postgres else self._insert(table, rows)
        self.written.append(table)
        print(f"  {table:<22} {count:>9,} rows in {time.perf_counter() - began:5.1f} s", flush=True)
        return count

    def _defaults(self, name: str, first: dict) -> dict[str, object]:
        """Values for columns the generator does not write (added since it was written): the
        model's default, as the ORM would use; a required column without one stops the load."""
        defaults: dict[str, object] = {}
        for column in self.metadata.tables[name].c:
            default = column.default
            if column.name in first:
                continue
            if default is not None and (default.is_scalar or default.is_callable):
                value = default.arg(None) if default.is_callable else default.arg
                defaults[column.name] = value.value if isinstance(value, enum.Enum) else value
            elif not (column.nullable or column.server_default is not None):
                raise SystemExit(f"{name}.{column.name} is required: teach bench/ to fill it")
        return defaults

    def _insert(self, table: str, rows: Iterator[dict]) -> int:
        statement = self.metadata.tables[table].insert()
        count = 0
        while batch := list(itertools.islice(rows, BATCH)):
            with self.engine.begin() as connection:
                connection.execute(statement, batch)
            count += len(batch)
        return count

    def _copy(self, table: str, columns: list[str], rows: Iterator[dict]) -> int:
        count = 0
        raw = self.engine.raw_connection()
        try:
            with (
                raw.cursor() as cursor,
                cursor.copy(  # type: ignore[attr-defined]
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN"
                ) as copy,
            ):
                for row in rows:
                    copy.write_row([row[column] for column in columns])
                    count += 1
            raw.commit()
        finally:
            raw.close()
        return count

    def update(self, sql: str, rows: list[dict]) -> None:
        """One statement for many parameter sets (a column set once its target exists)."""
        for start in range(0, len(rows), BATCH):
            with self.engine.begin() as connection:
                connection.execute(text(sql), rows[start : start + BATCH])

    def finish(self) -> None:
        """On PostgreSQL, move id sequences past the ids written and gather planner statistics
        (as autovacuum would within minutes of a load this size)."""
        if not self.postgres:
            return
        with self.engine.begin() as connection:
            for name in self.written:
                table = self.metadata.tables[name]
                if "id" in table.c:
                    newest = select(func.coalesce(func.max(table.c.id), 1)).scalar_subquery()
                    sequence = func.pg_get_serial_sequence(name, "id")
                    connection.execute(select(func.setval(sequence, newest)))
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
