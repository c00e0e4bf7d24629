"""The one-line integrity status a proctor reads (proctor panel), from the current findings.

A source that cannot be read is shown by name and reason: the proctor must know that, say,
the camera list has been unreadable for ten minutes, even though it blocks nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from client.i18n import _, current_language
from client.integrity.findings import Finding
from client.integrity.messages import explain_error_text


def proctor_summary(findings: Sequence[Finding] | None) -> str:
    if findings is None:
        return _("未检测")
    blocking = [f for f in findings if f.blocking]
    degraded = [f for f in findings if f.kind == "source_unavailable"]
    others = [f for f in findings if not f.blocking and f.kind != "source_unavailable"]
    language = current_language()
    parts: list[str] = []
    if blocking:
        parts.append(_("未通过：{names}").format(
            names="、".join(f.name.get(language) for f in blocking)))
    elif others:
        parts.append(_("通过（{n} 项提醒）").format(n=len(others)))
    else:
        parts.append(_("通过"))
    if degraded:
        parts.append(_("检测来源不可用：{sources}").format(sources="；".join(
            f"{f.name.get(language)}（{explain_error_text(f.detail.get('reason', ''))}）"
            for f in degraded)))
    return "；".join(parts)
