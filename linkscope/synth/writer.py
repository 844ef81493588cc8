"""Column-wise CSV writing for generated tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def write_table(path: Path, columns: dict[str, list[Any]], *, parquet: bool = False) -> int:
    table = pa.table(
        {name: pa.array(values, type=_type(values)) for name, values in columns.items()}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    if parquet:
        pq.write_table(table, path.with_suffix(".parquet"))
    else:
        pacsv.write_csv(table, path.with_suffix(".csv"))
    return int(table.num_rows)


def _type(values: list[Any]) -> pa.DataType:
    sample = next((v for v in values if v is not None), "")
    if isinstance(sample, bool):
        return pa.string()  # written as true/false text by _norm below
    if isinstance(sample, int):
        return pa.int64()
    if isinstance(sample, float):
        return pa.float64()
    return pa.string()
