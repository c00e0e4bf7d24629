"""What the evaluation reports: one Finding per thing the candidate (or a proctor) must act on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from client.integrity.rules import LocalizedName, Severity

Code = Literal["e-01", "e-02"]
# Which sentence describes the finding (messages.py); one per kind of instruction.
Kind = Literal[
    "remote_tool_process",
    "remote_tool_service_running",
    "remote_tool_service_installed",
    "screen_capture_process",
    "remote_session",
    "session_shadowed",
    "vm",
    "sandbox",
    "virtual_camera_selected",
    "virtual_camera_installed",
    "virtual_display",
    "display_count",
    "lab_software_process",
    "virtual_audio",
    "source_unavailable",
]


@dataclass(frozen=True)
class Finding:
    code: Code
    check: str  # the kill-switch id in the rules file
    kind: Kind
    severity: Severity
    subject: str  # stable id: tool id, VM family, sandbox id, camera path ...
    name: LocalizedName  # what to show: "ToDesk", "向日葵远程控制", "VMware" ...
    evidence: tuple[str, ...]  # what matched, for logs, review and support triage
    detail: Mapping[str, str] = field(default_factory=dict)  # message parameters

    @property
    def key(self) -> str:
        """Identity across scans: the monitor reports new / resolved findings by key."""
        return f"{self.code}:{self.kind}:{self.subject}"

    @property
    def episode_key(self) -> str:
        """Identity of the *situation* for the review record: a tool seen first as a process
        and then, after the next full scan, as its running service is one episode."""
        return f"{self.code}:{self.check}:{self.subject}:{self.severity}"

    @property
    def blocking(self) -> bool:
        return self.severity == "block"

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "check": self.check,
            "kind": self.kind,
            "severity": self.severity,
            "subject": self.subject,
            "name": {"zh_CN": self.name.zh_CN, "en": self.name.en},
            "evidence": list(self.evidence),
            "detail": dict(self.detail),
        }


Verdict = Literal["ok", "warn", "block"]


def verdict(findings: Iterable[Finding]) -> Verdict:
    severities = {f.severity for f in findings}
    if "block" in severities:
        return "block"
    return "warn" if "warn" in severities else "ok"


def blocking(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.blocking]
