"""Config check: no security setting was refused, and the server connection is encrypted.

A refused key is either a candidate's attempt (the server URL in the per-user user.ini, a
``--config``) or a center config in the wrong place (an old installation wrote /SERVER
beside the program): both must be seen before the exam, not discovered as a PC that
cannot reach its server.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from client.config import SettingProblem
from client.i18n import _
from client.readiness.result import CheckResult, Status


def evaluate_config_trust(problems: Sequence[SettingProblem], *,
                          server_url: str) -> CheckResult:
    refused = [problem for problem in problems if problem.security]
    detail: dict[str, object] = {
        "refused": [{"file": str(p.file), "section": p.section, "key": p.key,
                     "kind": p.kind.value} for p in refused],
        "server_url": server_url,
    }
    if refused:
        return CheckResult("config", Status.FAIL, _(
            "有 {count} 项安全设置未被采用：{messages}").format(
            count=len(refused), messages="；".join(p.message() for p in refused)), detail)
    if urlsplit(server_url).scheme == "http":
        return CheckResult("config", Status.WARN, _(
            "全机配置允许不加密的服务器地址 {url}（allow_plain_http）：只适用于实验室/测试"
            "网络，正式考试请改用 https://").format(url=server_url), detail)
    return CheckResult("config", Status.PASS, _("服务器地址与证书来自全机配置"), detail)
