"""Column-wise CSV or Parquet writing for generated tables, whole or streamed in chunks."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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


class StreamWriter:
    """Appends chunks of one table to a CSV or Parquet file, so memory stays one chunk wide.

    Every chunk must carry the schema's columns; one header (CSV) or one footer (Parquet) is
    written for the whole file.
    """

    def __init__(self, path: Path, schema: pa.Schema, *, parquet: bool = False) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.schema = schema
        self.rows = 0
        self._writer: pq.ParquetWriter | pacsv.CSVWriter
        if parquet:
            self._writer = pq.ParquetWriter(path.with_suffix(".parquet"), schema)
        else:
            self._writer = pacsv.CSVWriter(path.with_suffix(".csv"), schema)

    def write(self, columns: dict[str, pa.Array | np.ndarray[Any, Any]]) -> None:
        arrays = [_arrow(columns[f.name], f.type) for f in self.schema]
        table = pa.Table.from_arrays(arrays, schema=self.schema)
        if table.num_rows:
            self._writer.write_table(table)
            self.rows += table.num_rows

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> StreamWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _arrow(values: pa.Array | np.ndarray[Any, Any], kind: pa.DataType) -> pa.Array:
    if isinstance(values, pa.Array):
        return values if values.type == kind else values.cast(kind)
    return pa.array(values, type=kind, from_pandas=True)  # NaN: null (a market order's price)


def ids(prefix: str, numbers: np.ndarray[Any, Any], width: int = 9) -> pa.Array:
    """``prefix`` + zero-padded numbers (``T000000042``), built in Arrow rather than Python;
    negative numbers give nulls (no such id)."""
    text = pc.cast(pa.array(numbers, type=pa.int64(), mask=numbers < 0), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(text, width, "0"), "")


def pick(values: pa.Array, positions: np.ndarray[Any, Any]) -> pa.Array:
    """``values[positions]`` as an Arrow array (account ids, symbols, enum texts)."""
    return pc.take(values, pa.array(positions, type=pa.int64()))
