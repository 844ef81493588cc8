"""Row validation against a FileSpec: typed values, or the first broken rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingest.contract import FileSpec, Limits, bounds_rule, row_rule
from ingest.reader import Record


@dataclass(frozen=True)
class Rejection:
    line: int
    column: str
    reason: str
    raw: Any


class Validator:
    """Validates the records of one file; the column positions are resolved once per header."""

    def __init__(self, spec: FileSpec, header: list[str], limits: Limits | None = None) -> None:
        self.spec = spec
        self.header = header
        self.limits = limits or Limits()
        positions = {name: i for i, name in enumerate(header)}
        self.plan = [(column, positions.get(column.name)) for column in spec.columns]

    def __call__(self, record: Record) -> dict[str, Any] | Rejection:
        if record.error is not None:
            return Rejection(record.line, "", record.error, record.fields)
        fields = record.fields
        row: dict[str, Any] = {}
        for column, index in self.plan:
            raw = fields[index] if index is not None else ""
            if raw is None or (raw.__class__ is str and not raw.strip()):
                if column.required:
                    return Rejection(record.line, column.name, "required value is empty", fields)
                row[column.name] = column.default
                continue
            try:
                row[column.name] = column.parse(raw)
            except (ValueError, ArithmeticError) as exc:
                return Rejection(record.line, column.name, str(exc), fields)
        broken = bounds_rule(self.spec, row, self.limits) or row_rule(self.spec, row)
        if broken is not None:
            return Rejection(record.line, broken[0], broken[1], fields)
        return row
