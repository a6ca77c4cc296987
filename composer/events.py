"""Progress output, shaped like `docker compose --progress plain` (on stderr)."""

from __future__ import annotations

import sys
import threading
from typing import TextIO


class Events:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._lock = threading.Lock()

    def progress(self, kind: str, name: str, status: str) -> None:
        """E.g. `progress("Container", "demo-web-1", "Started")` → ` Container demo-web-1  Started`."""
        self._write(f" {kind} {name}  {status}")

    def warn(self, message: str) -> None:
        self._write(f"WARN: {message}")

    def _write(self, line: str) -> None:
        with self._lock:
            print(line, file=self.stream, flush=True)
