"""The readiness report: plain text lines for a person, JSON for collecting a room's PCs.

Exit code: 0 every check passed, 1 at least one warning, 2 at least one failure, so a
script that runs ``exam-client check`` on every PC of a room can sort them.
"""

from __future__ import annotations

import json
import platform
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from client import __version__
from client.i18n import _
from client.readiness.result import CheckResult, Status, worst

REPORT_FORMAT = "exam-client-readiness/1"

EXIT_CODES = {Status.PASS: 0, Status.WARN: 1, Status.FAIL: 2}


def status_label(status: Status) -> str:
    return {Status.PASS: _("通过"), Status.WARN: _("警告"), Status.FAIL: _("失败")}[status]


def check_title(name: str) -> str:
    titles = {
        "os": _("操作系统"),
        "memory": _("内存"),
        "disk": _("磁盘空间"),
        "exam_day": _("考试日设置"),
        "data_dir": _("数据目录"),
        "screen": _("屏幕"),
        "opengl": _("显卡"),
        "camera": _("摄像头"),
        "server": _("考试服务器"),
        "tls": _("加密连接"),
        "clock": _("电脑时间"),
        "center_ip": _("考点 IP"),
        "config": _("配置来源"),
        "integrity": _("远程控制/虚拟设备"),
    }
    return titles.get(name, name)


def format_line(result: CheckResult) -> str:
    return f"[{status_label(result.status)}] {check_title(result.name)}：{result.message}"


def exit_code(results: Sequence[CheckResult]) -> int:
    return EXIT_CODES[worst(results)]


@dataclass(frozen=True)
class MachineIdentity:
    """How an admin recognises a PC in the server's list: its name and a network address.

    The hostname is what the lab labels; the MAC tells apart two PCs cloned from one
    image that kept the same name (Windows' MachineGuid is cloned too, so it cannot).
    """

    hostname: str
    mac: str

    @property
    def machine_id(self) -> str:
        return f"{self.hostname}/{self.mac}"


def machine_identity() -> MachineIdentity:
    node = uuid.getnode()
    mac = ":".join(f"{(node >> shift) & 0xFF:02x}" for shift in range(40, -1, -8))
    return MachineIdentity(hostname=socket.gethostname(), mac=mac)


def build_report(results: Sequence[CheckResult], *, identity: MachineIdentity,
                 center_id: str, server_url: str, data_dir: str,
                 created_at: datetime | None = None) -> dict[str, object]:
    moment = created_at or datetime.now(UTC)
    overall = worst(results)
    return {
        "format": REPORT_FORMAT,
        "created_at": moment.isoformat(timespec="seconds"),
        "client_version": __version__,
        "hostname": identity.hostname,
        "mac": identity.mac,
        "machine_id": identity.machine_id,
        "center_id": center_id,
        "server_url": server_url,
        "data_dir": data_dir,
        "platform": platform.platform(),
        "overall": overall.value,
        "exit_code": EXIT_CODES[overall],
        "checks": [r.to_json() for r in results],
    }


def report_json(report: Mapping[str, object]) -> str:
    # ensure_ascii=False: admins open these in Notepad; Chinese must stay readable.
    return json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n"


def summary_line(results: Sequence[CheckResult]) -> str:
    overall = worst(results)
    counts = {status: sum(1 for r in results if r.status is status) for status in Status}
    if overall is Status.PASS:
        verdict = _("本机已准备好考试")
    elif overall is Status.WARN:
        verdict = _("本机可以考试，但有需要注意的问题")
    else:
        verdict = _("本机尚未准备好考试，请先解决失败项")
    return _("{verdict}（通过 {passed}，警告 {warned}，失败 {failed}）").format(
        verdict=verdict, passed=counts[Status.PASS], warned=counts[Status.WARN],
        failed=counts[Status.FAIL])
