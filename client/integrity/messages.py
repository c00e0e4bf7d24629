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
        if d.get("who") == "proctor":
            # A SYSTEM / session-0 process: "please exit" would ask the impossible.
            return _("检测到远程控制软件：{name}（{exe}），它以系统权限运行，考生无法自行关闭，"
                     "请举手请监考教师处理后点击重新检测").format(name=name, exe=d.get("exe", ""))
        return _("检测到远程控制软件：{name}（{exe}），请退出后点击重新检测").format(
            name=name, exe=d.get("exe", ""))
    if kind == "remote_tool_service_running":
        return _(
            "检测到远程控制软件的后台服务：{name}（{service}），请监考教师停止该服务后点击重新检测"
        ).format(
            name=name, service=d.get("service", ""))
    if kind == "lab_software_process":
        if finding.blocking:
            return _("检测到机房管理软件：{name}（{exe}），本考点要求考试时关闭，"
                     "考生无法自行关闭，请监考教师处理后点击重新检测").format(
                name=name, exe=d.get("exe", ""))
        return _("检测到机房管理软件：{name}（{exe}），本考点允许运行，已记录").format(
            name=name, exe=d.get("exe", ""))
    if kind == "virtual_audio":
        if finding.blocking:
            return _("检测到虚拟音频设备：{name}，请监考教师卸载或停用后点击重新检测").format(
                name=name)
        return _("检测到虚拟音频设备：{name}，已记录").format(name=name)
    if kind == "source_unavailable":
        return _("无法读取{name}（{reason}），这部分检测暂不可用，已记录并告知监考教师").format(
            name=name, reason=explain_error_text(d.get("reason", "")))
    if kind == "remote_tool_service_installed":
        return _("已安装远程控制软件的后台服务：{name}（{service}），当前未运行，已记录").format(
            name=name, service=d.get("service", ""))
    if kind == "screen_capture_process":
        if d.get("who") == "proctor":
            return _("检测到屏幕共享或录制软件：{name}（{exe}），它以系统权限运行，"
                     "考生无法自行关闭，请举手请监考教师处理后点击重新检测").format(
                name=name, exe=d.get("exe", ""))
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


# The reason evaluate._unverified_processes gives: "a.exe, b.exe: image file not readable in time".
_UNREADABLE_IMAGES = "image file not readable in time"


def explain_error_text(reason: str) -> str:
    """A collector failure in words ("TypeError: 'NoneType'..." means little to anyone)."""
    lowered = reason.casefold()
    if lowered.endswith(_UNREADABLE_IMAGES):
        names = reason[: -len(_UNREADABLE_IMAGES)].rstrip(": ")
        return _("程序文件长时间读不出来：{names}").format(names=names)
    if "no answer within" in lowered or "still hanging" in lowered:
        return _("系统接口长时间无响应")
    if "permission" in lowered or "access is denied" in lowered or "accessdenied" in lowered:
        return _("没有读取权限")
    if "zeroed addresses" in lowered or "restricted" in lowered:
        return _("系统限制普通用户读取")
    if "unusable answer" in lowered or "typeerror" in lowered or "nonetype" in lowered:
        return _("系统接口返回了无法识别的数据")
    if "windows only" in lowered or "windows api only" in lowered or "exist on windows" in lowered:
        return _("本操作系统不提供此信息")
    return _("读取失败：{reason}").format(reason=reason) if reason else _("读取失败")


def explain_scan_error(error: BaseException) -> str:
    """The pre-exam check failed as a whole: say what happened, not just the class name."""
    text = f"{type(error).__name__}: {error}"
    return explain_error_text(text) if str(error) else explain_error_text(type(error).__name__)
