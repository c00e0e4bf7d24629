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


def test_import_contract_names_every_core_package() -> None:
    """lint-imports only checks the packages its contract names: a new package left out
    of pyproject.toml would escape the static check (client.lockdown once did)."""
    import tomllib
    from pathlib import Path

    pyproject = Path(client.__file__).resolve().parent.parent / "pyproject.toml"
    contracts = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["importlinter"]
    qt_rule = next(c for c in contracts["contracts"] if c["name"] == "Only client.ui imports Qt")
    top_level = {f"client.{info.name}" for info in pkgutil.iter_modules(client.__path__)
                 if info.name not in ("ui", "__main__")}
    assert top_level - set(qt_rule["source_modules"]) == set()
