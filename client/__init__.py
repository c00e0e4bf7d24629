"""Exam Client (考试客户端): an offline-first desktop exam client.

Everything in this package except ``client.ui`` is a Qt-free core that imports and
runs without PySide6 (enforced by the import-linter contract in pyproject.toml).
"""

__version__ = "0.1.0"
