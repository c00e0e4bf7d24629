"""Every module of the Qt-free core imports and none of them pulls in PySide6."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import client

QT_FREE_SKIP = ("client.ui",)


def core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(client.__path__, prefix="client."):
        if not info.name.startswith(QT_FREE_SKIP):
            names.append(info.name)
    return names


def test_core_imports_without_qt() -> None:
    imported = []
    for name in core_modules():
        if name.endswith("__main__"):
            continue
        importlib.import_module(name)
        imported.append(name)
    assert len(imported) > 20
    assert "PySide6" not in sys.modules
