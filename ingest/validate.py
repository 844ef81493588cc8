"""Row validation against a FileSpec: typed values, or the first broken rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingest.contract import FileSpec, row_rule
from ingest.reader import Record


@dataclass(frozen=True)
class Rejection:
    line: int
    column: str
    reason: str
    raw: Any


def validate(spec: FileSpec, record: Record) -> dict[str, Any] | Rejection:
    if record.error is not None:
        return Rejection(record.line, "", record.error, record.raw)
    values = record.values
    row: dict[str, Any] = {}
    for column in spec.columns:
        raw = values.get(column.name, "")
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if column.required:
                return Rejection(record.line, column.name, "required value is empty", _raw(record))
            row[column.name] = column.default
            continue
        try:
            row[column.name] = column.parse(raw)
        except ValueError as exc:
            return Rejection(record.line, column.name, str(exc), _raw(record))
    broken = row_rule(spec, row)
    if broken is not None:
        return Rejection(record.line, broken[0], broken[1], _raw(record))
    return row


def _raw(record: Record) -> Any:
    return record.raw if record.raw is not None else record.values
