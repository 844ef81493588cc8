"""The quarantine report: every rejected row with its file, line, column and reason."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, TextIO


class Quarantine:
    HEADER = ("file", "line", "column", "reason", "raw_row")

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.count = 0
        self._handle: TextIO | None = None
        self._writer: Any = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(self.HEADER)

    def add(self, file: str, line: int, column: str, reason: str, raw: Any) -> None:
        self.count += 1
        if self._writer is None:
            return
        if isinstance(raw, list):
            text = ",".join("" if v is None else str(v) for v in raw)
        else:
            text = json.dumps(raw, default=str, sort_keys=True)
        self._writer.writerow((file, line, column, reason, text))

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
