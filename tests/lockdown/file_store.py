"""A PolicyStore on a JSON file: the registry's shape (key, name -> DWORD) on Linux, so the
restore path runs for real across processes. Writes are atomic like the record's."""

from __future__ import annotations

import json
import os
from pathlib import Path


class FilePolicyStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, int]:
        if not self.path.exists():
            return {}
        data: dict[str, int] = json.loads(self.path.read_text(encoding="utf-8"))
        return data

    def _save(self, values: dict[str, int]) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(values, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.path)

    def read(self, key: str, name: str) -> int | None:
        return self._load().get(f"{key}\\{name}")

    def write(self, key: str, name: str, value: int) -> None:
        values = self._load()
        values[f"{key}\\{name}"] = value
        self._save(values)

    def delete(self, key: str, name: str) -> None:
        values = self._load()
        values.pop(f"{key}\\{name}", None)
        self._save(values)
