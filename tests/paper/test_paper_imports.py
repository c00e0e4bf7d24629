"""client.paper stays Qt-free (the server imports it)."""

from __future__ import annotations

import subprocess
import sys


def test_no_module_of_client_paper_imports_qt() -> None:
    code = (
        "import pkgutil, importlib, sys, client.paper as p\n"
        "for m in pkgutil.iter_modules(p.__path__):\n"
        "    importlib.import_module('client.paper.' + m.name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
