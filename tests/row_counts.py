"""The number of rows in every table: what "changed nothing" is checked against."""

from __future__ import annotations

from sqlalchemy import Engine, func, inspect, select, table


def row_counts(engine: Engine) -> dict[str, int]:
    names = inspect(engine).get_table_names()
    with engine.connect() as connection:
        return {name: connection.execute(select(func.count()).select_from(table(name)))
                .scalar_one() for name in names}
