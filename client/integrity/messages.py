"""The sentence a candidate reads for each finding: what was found and exactly what to do."""

from __future__ import annotations

from client.i18n import _, current_language
from client.integrity.findings import Finding, Verdict


def describe(finding: Finding) -> str:
    """One line in the current language, e.g.
    "检测到远程控制软件：ToDesk（ToDesk.exe），请退出后点击重新检测"."""
    name = finding.name.get(current_language())
    d = finding.detail
    kind = finding.kind
    if kind == "remote_tool_process":
        return _("检测到远程控制软件：{name}（{exe}），请退出后点击重新检测").format(
            name=name, exe=d.get("exe", ""))
    if kind == "remote_tool_service_running":
        return _(
            "检测到远程控制软件的后台服务：{name}（{service}），请监考教师停止该服务后点击重新检测"
        ).format(
            name=name, service=d.get("service", ""))
    if kind == "remote_tool_service_installed":
        return _("已安装远程控制软件的后台服务：{name}（{service}），当前未运行，已记录").format(
            name=name, service=d.get("service", ""))
    if kind == "screen_capture_process":
        return _("检测到屏幕共享或录制软件：{name}（{exe}），请退出后点击重新检测").format(
            name=name, exe=d.get("exe", ""))
    if kind == "remote_session":
        return _("当前是远程桌面会话，请在考场电脑本机登录后重新打开考试客户端")
    if kind == "session_shadowed":
        return _("当前会话正被远程查看或控制，请断开远程连接后点击重新检测")
    if kind == "vm":
        return _("检测到虚拟机或虚拟设备（{name}），请在实体电脑上考试").format(name=name)
    if kind == "sandbox":
        return _("检测到考试客户端在沙盒中运行（{name}），请直接在电脑上运行考试客户端").format(
            name=name)
    if kind == "virtual_camera_selected":
        return _("所选摄像头是虚拟摄像头：{name}，请选择电脑自带或USB摄像头").format(name=name)
    if kind == "virtual_camera_installed":
        return _("检测到虚拟摄像头：{name}，考试只会使用实体摄像头，已记录").format(name=name)
    if kind == "virtual_display":
        return _("检测到虚拟显示器：{name}，请关闭后点击重新检测").format(name=name)
    if kind == "display_count":
        return _(
            "检测到 {count} 台显示器，本场考试只允许 {allowed} 台，请断开多余的显示器后点击重新检测"
        ).format(
            count=d.get("count", "?"), allowed=d.get("allowed", "?"))
    raise ValueError(f"no message for finding kind {kind!r}")


def describe_verdict(verdict: Verdict) -> str:
    if verdict == "block":
        return _("检测未通过：请按上面的提示处理后重新检测")
    if verdict == "warn":
        return _("检测通过（有提醒，已记录）")
    return _("检测通过：未发现远程控制软件或虚拟设备")


def severity_label(finding: Finding) -> str:
    return _("必须处理") if finding.blocking else _("提醒")
