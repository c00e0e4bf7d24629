"""Windows adapters of the lockdown: each imports on any platform and does its Windows
calls only under ``sys.platform == "win32"`` (type-checked with mypy --platform win32)."""
