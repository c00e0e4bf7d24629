"""docs/support.md explains every error code the client can raise and every line of the
readiness check and the self-test; docs/deploy.md documents the commands it names."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = (ROOT / "docs" / "support.md").read_text(encoding="utf-8")
CODE = re.compile(r"^[a-z_]+\.[a-z_]+$")


def raised_codes() -> dict[str, str]:
    """Codes passed to UserFacingError and its subclasses anywhere in client/."""
    codes: dict[str, str] = {}
    for path in sorted(ROOT.joinpath("client").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else "")
            first = node.args[0]
            if ((name.endswith("Error") or name in ("__init__", "_error", "ReviewReason"))
                    and isinstance(first, ast.Constant) and isinstance(first.value, str)
                    and CODE.match(first.value)):
                codes.setdefault(first.value, str(path.relative_to(ROOT)))
    return codes


def test_every_error_code_is_explained() -> None:
    codes = raised_codes()
    assert len(codes) > 40  # the scan finds the codes at all
    missing = {code: where for code, where in codes.items() if f"`{code}`" not in SUPPORT}
    assert not missing, f"add to docs/support.md: {missing}"


def marked(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "_" and node.args
                and isinstance(node.args[0], ast.Constant)):
            found.add(str(node.args[0].value))
    return found


def test_every_readiness_and_self_test_message_is_explained() -> None:
    files = [*ROOT.joinpath("client", "readiness").glob("*.py"), ROOT / "client" / "selftest.py",
             ROOT / "client" / "ui" / "selftest_window.py"]
    labels = {"通过", "警告", "失败", "正常", "{width}×{height}"}  # words inside other lines
    titles = set(re.findall(r'"\w+": _\("([^"]+)"\)',
                            (ROOT / "client/readiness/report.py").read_text(encoding="utf-8")))
    messages = set().union(*(marked(path) for path in files)) - labels - titles
    missing = sorted(m for m in messages if m not in SUPPORT)
    assert not missing, f"add to docs/support.md: {missing}"
