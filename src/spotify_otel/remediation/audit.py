"""The audit log: one JSON object per line for every decision and every action result."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO


class AuditLog:
    """Appends JSON lines to ``path`` (created with its parent directory), flushed line by line.

    Every record gets ``time`` (UTC, RFC 3339) and ``event`` (``request``, ``decision`` or
    ``result``). :meth:`write` raises OSError when the log cannot be written: the service fails
    closed (no action runs without its audit record).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._file: TextIO | None = None

    def open(self) -> AuditLog:
        """Create the directory and open the file for appending (raises OSError if impossible)."""
        with self._lock:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a", encoding="utf-8")
        return self

    def write(self, event: str, **fields: Any) -> dict[str, Any]:
        """Append one record and return it."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        record: dict[str, Any] = {"time": now, "event": event}
        record.update(fields)
        line = json.dumps(record, ensure_ascii=False, sort_keys=False, default=str)
        with self._lock:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a", encoding="utf-8")
            self._file.write(line + "\n")
            self._file.flush()
        return record

    def close(self) -> None:
        """Close the file (a later write reopens it)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def read_audit(path: str | Path) -> list[dict[str, Any]]:
    """All records of an audit log file (for tests and tooling)."""
    records: list[dict[str, Any]] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            records.append(json.loads(line))
    return records
