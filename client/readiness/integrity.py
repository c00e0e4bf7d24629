"""Integrity check: would the exam refuse to start on this PC (e-01 remote control, e-02
virtual devices)? The detection itself is client.integrity's; this runs it once with the
built-in rules and turns its findings into one line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from client.i18n import _
from client.readiness.result import CheckResult, Status


def evaluate_findings(findings: Sequence[Any], *, rules_version: int) -> CheckResult:
    """*findings* are client.integrity Findings (blocking ones stop the exam)."""
    from client.integrity.messages import describe

    detail: dict[str, object] = {"rules_version": rules_version,
                                 "findings": [f.to_json() for f in findings]}
    blocking = [describe(f) for f in findings if f.blocking]
    notes = [describe(f) for f in findings if not f.blocking]
    if blocking:
        return CheckResult("integrity", Status.FAIL, "；".join(blocking), detail)
    if notes:
        return CheckResult("integrity", Status.WARN, "；".join(notes), detail)
    return CheckResult("integrity", Status.PASS, _(
        "未发现远程控制软件或虚拟设备（规则版本 {version}）").format(version=rules_version),
        detail)


def check_integrity() -> CheckResult:
    from client.integrity.collector import platform_collector
    from client.integrity.evaluate import evaluate
    from client.integrity.rules import builtin_rules

    rules = builtin_rules()
    snapshot = platform_collector(rules=rules).snapshot()
    return evaluate_findings(evaluate(snapshot, rules), rules_version=rules.version)
